//! The stable smoke run of fuzz target bodies, shared by the smoke tests of `softpxe-net`,
//! `softpxe-pxe` and `softpxe-settings` (included with `#[path]`): every committed corpus file
//! (seeds and real captures, `rom/net/fuzz/corpus/TARGET`), then generated inputs: random bytes
//! up to a full UDP payload, inputs of random full-size records (`[ctl, len_lo, len_hi, ...]`,
//! up to a 1518-byte Ethernet frame) and mutations of corpus files. No panic allowed.
#![allow(dead_code)]
use std::path::Path;

pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

pub fn corpus(target: &str) -> Vec<Vec<u8>> {
    let root = corpus_root();
    let mut files: Vec<_> = std::fs::read_dir(root.join(target))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// `rom/net/fuzz/corpus`, found from whichever crate includes this file.
fn corpus_root() -> std::path::PathBuf {
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    loop {
        let c = dir.join("rom/net/fuzz/corpus");
        if c.is_dir() {
            return c;
        }
        assert!(dir.pop(), "rom/net/fuzz/corpus not found");
    }
}

fn mutate(rng: &mut XorShift, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        match rng.below(4) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.truncate(i);
            }
            2 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.next() as u8);
            }
            _ if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            _ => v.push(0),
        }
    }
    v
}

/// Records of random bytes, up to `max_record` bytes each.
fn records(rng: &mut XorShift, max_record: usize) -> Vec<u8> {
    let mut v = vec![rng.next() as u8];
    for _ in 0..1 + rng.below(6) {
        let n = if rng.below(3) == 0 {
            max_record
        } else {
            rng.below(max_record + 1)
        };
        v.push(rng.next() as u8);
        v.extend_from_slice(&(n as u16).to_le_bytes());
        v.extend((0..n).map(|_| rng.next() as u8));
    }
    v
}

/// Runs `body` over the corpus of `name` and `rounds` generated inputs.
pub fn run(name: &str, body: fn(&[u8]), rounds: usize) {
    let seeds = corpus(name);
    assert!(!seeds.is_empty(), "no committed corpus for {name}");
    for s in &seeds {
        body(s);
    }
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    for i in 0..rounds {
        let input = match i % 4 {
            // up to a full UDP payload on a 1500-byte MTU
            0 => {
                let n = rng.below(1473);
                (0..n).map(|_| rng.next() as u8).collect()
            }
            1 => records(&mut rng, 1518),
            _ => {
                let seed = &seeds[rng.below(seeds.len())];
                mutate(&mut rng, seed)
            }
        };
        body(&input);
    }
}
