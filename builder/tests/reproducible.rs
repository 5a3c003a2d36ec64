//! The firmware image depends on the source tree and the toolchain version only: built again
//! from two copies of the tree at two other paths, each with its own target directory and its
//! own cargo home (a copy of this machine's registry, used offline), the BIOS firmware comes
//! out byte for byte the same as the one this `softpxe` embeds, and names no directory of the
//! machine that built it.
use softpxe::firmware;
use softpxe_fwbuild::{build_package_in, cargo_home, flat_image};
use std::fs;
use std::path::{Path, PathBuf};

/// Copies the source tree (no `target` directories, no git metadata).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&src, &dst);
        } else if kind.is_file() {
            fs::copy(&src, &dst).unwrap();
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        }
    }
}

/// A fresh cargo home holding a copy of this machine's registry (index, crate files, sources).
fn copy_cargo_home(to: &Path) {
    let registry = cargo_home().join("registry");
    assert!(
        registry.is_dir(),
        "{} is missing: build once online first",
        registry.display()
    );
    copy_tree(&registry, &to.join("registry"));
}

/// The flat images of one build: every boot record and SOFTPXE.SYS, by name.
fn images(elfs: &Path) -> Vec<(&'static str, Vec<u8>)> {
    [
        "softpxe-sys",
        "bootsect-fat12",
        "vbr-fat16",
        "vbr-fat32",
        "mbr",
    ]
    .into_iter()
    .map(|name| (name, flat_image(&elfs.join(name))))
    .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn firmware_is_reproducible_across_cargo_home_checkout_and_target_dir() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let tmp = tempfile::tempdir().unwrap();
    // Two checkouts and two cargo homes at paths of different lengths.
    let a = (tmp.path().join("a/softpxe"), tmp.path().join("a/home"));
    let b = (
        tmp.path().join("second-checkout/src/tree"),
        tmp.path().join("another/cargo-home"),
    );
    for (tree, home) in [&a, &b] {
        copy_tree(&root, tree);
        copy_cargo_home(home);
    }
    // Both builds at once (each is mostly one LTO codegen unit).
    let build = |(tree, home): &(PathBuf, PathBuf)| {
        let tree = tree.clone();
        let home = home.clone();
        std::thread::spawn(move || {
            let elfs =
                build_package_in(&tree, "softpxe-bios", &tree.join("target/fw"), Some(&home));
            images(&elfs)
        })
    };
    let (ta, tb) = (build(&a), build(&b));
    let (ia, ib) = (ta.join().unwrap(), tb.join().unwrap());
    for ((name, x), (_, y)) in ia.iter().zip(&ib) {
        assert!(
            x == y,
            "{name} differs between the two builds ({} and {} bytes)",
            x.len(),
            y.len()
        );
    }
    let sys = &ia[0].1;
    assert!(
        sys.as_slice() == firmware::SOFTPXE_SYS,
        "SOFTPXE.SYS built from a copy differs from the one built in {}",
        root.display()
    );
    let home = cargo_home();
    let machine: Vec<String> = [
        root.display().to_string(),
        home.display().to_string(),
        tmp.path().display().to_string(),
        std::env::var("HOME").unwrap_or_default(),
    ]
    .into_iter()
    .filter(|p| p.len() > 1)
    .chain([
        "/root/".into(),
        "/work/".into(),
        ".cargo".into(),
        "/home/".into(),
    ])
    .collect();
    for (name, image) in &ia {
        for m in &machine {
            assert!(
                !contains(image, m.as_bytes()),
                "{name} contains the machine path {m:?}"
            );
        }
    }
    // The remapped names are there: the test looks at the right strings.
    assert!(
        contains(sys, b"crates/smoltcp-"),
        "no remapped registry path"
    );
}
