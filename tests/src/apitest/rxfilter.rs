//! The receive-filter step of apitest.0 (header flag bit 2, tests/nbp/src/rxfilter.s): the
//! addresses the test sends to and the checks of what the NBP saw in each phase.
use super::{key_values, Report, DONE};
use anyhow::{ensure, Context, Result};
use std::collections::BTreeMap;

/// The new station address apitest.0's receive-filter step sets (rxfilter.s `rf_new`).
pub const RX_NEW_MAC: [u8; 6] = [0x02, 0x50, 0x58, 0x46, 0x4C, 0x54];
/// The multicast group it subscribes to (239.1.2.3) and one it does not (239.1.2.4).
pub const RX_GROUPS: [[u8; 4]; 2] = [[239, 1, 2, 3], [239, 1, 2, 4]];

/// The counters of one `apitest: RXFILTER phase=<name> ...` line.
pub fn rx_phase(r: &Report, phase: &str) -> Result<BTreeMap<String, u32>> {
    let line = r.line(&format!("apitest: RXFILTER phase={phase} "))?;
    let rest = line.strip_prefix("apitest: RXFILTER ").unwrap_or("");
    key_values(rest)?
        .into_iter()
        .filter(|(k, _)| k != "phase")
        .map(|(k, v)| {
            let n = u32::from_str_radix(&v, 16).with_context(|| format!("{k}={v} in {line}"))?;
            Ok((k, n))
        })
        .collect()
}

/// What the receive-filter step (header flag bit 2) must show: per phase, which of the four
/// destinations the sender keeps sending to (subscribed group, unsubscribed group, the new
/// station address, the old one) reached the NBP through UNDI_ISR, and that every call took.
pub fn check_rx_filter(r: &Report) -> Result<()> {
    r.call("UNDI_OPEN")?.ok()?.expect("mcast", "01005E010203")?;
    for c in r
        .all("UNDI_SET_STATION_ADDRESS", "!PXE")
        .into_iter()
        .chain(r.all("UNDI_SET_PACKET_FILTER", "!PXE"))
        .chain(r.all("UNDI_SET_MCAST_ADDRESS", "!PXE"))
    {
        c.ok()?;
    }
    // (phase, [sub, unsub, new, old]): true = some arrived, false = none
    let want = [
        ("open", [true, false, false, true]),
        ("station", [true, false, true, false]),
        ("promisc", [true, true, true, true]),
        ("nomcast", [false, false, true, false]),
    ];
    for (phase, expect) in want {
        let got = rx_phase(r, phase)?;
        for (key, seen) in ["sub", "unsub", "new", "old"].into_iter().zip(expect) {
            let n = *got
                .get(key)
                .with_context(|| format!("no {key} in phase {phase}"))?;
            ensure!(
                (n > 0) == seen,
                "phase {phase}: {key}={n}, expected {}:\n{}",
                if seen { "some" } else { "none" },
                r.lines.join("\n")
            );
        }
    }
    r.line(DONE)?;
    Ok(())
}
