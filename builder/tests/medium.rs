//! The firmware's FAT reader (`softpxe_settings::medium`) finds SOFTPXE.CFG and SOFTPXE.SYS on
//! the images the builder writes, floppy and USB partition alike.
use softpxe::BuildOptions;
use softpxe_settings::medium::{read_root_file, SECTOR};

fn reader(volume: &[u8]) -> impl FnMut(u32, &mut [u8; SECTOR]) -> bool + '_ {
    move |lba, buf| {
        let at = lba as usize * SECTOR;
        match volume.get(at..at + SECTOR) {
            Some(s) => {
                buf.copy_from_slice(s);
                true
            }
            None => false,
        }
    }
}

fn check(volume: &[u8], options: &BuildOptions) {
    let mut out = vec![0u8; 8192];
    let n = read_root_file(&mut reader(volume), b"SOFTPXE CFG", &mut out).unwrap();
    assert_eq!(&out[..n], options.settings_text().as_bytes());
    let mut sys = vec![0u8; 512 * 1024];
    let n = read_root_file(&mut reader(volume), b"SOFTPXE SYS", &mut sys).unwrap();
    assert_eq!(&sys[..n], softpxe::firmware::SOFTPXE_SYS);
}

#[test]
fn firmware_reader_finds_the_files_on_a_floppy() {
    let mut options = BuildOptions::default();
    options.settings.boot_file = Some(softpxe_settings::Text::new(b"pxelinux.0").unwrap());
    let img = softpxe::build_floppy(&options).unwrap();
    check(&img, &options);
}

#[test]
fn firmware_reader_finds_the_files_on_a_usb_partition() {
    let options = BuildOptions::default();
    let img = softpxe::build_usb(&options, 64 << 20).unwrap();
    check(&img[2048 * SECTOR..], &options);
}
