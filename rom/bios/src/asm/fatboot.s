# softpxe boot record: loads SOFTPXE.SYS from a FAT12 or FAT16 volume and jumps to it.
#
# Two builds of this one source (see src/bin/): the floppy boot sector (FAT12, INT 13h CHS
# reads) and the USB partition's VBR (FAT16, INT 13h extensions AH=42h, CHS as fallback).
# The builder keeps the BPB that the FAT formatter wrote (bytes 3..0x3E) and copies our jump
# and code (0x3E..0x200) over it; everything below reads the volume's layout from that BPB.
#
# Contract with SOFTPXE.SYS: loaded whole at 1000:0000 (at most SYS_LIMIT_SEG - 1000h paragraphs),
# entered there with DL = BIOS drive and the boot sector (BPB) still at 0000:7C00.
# Every read is one 512-byte sector into a 512-byte aligned buffer, so no read crosses a 64 KiB
# physical boundary (floppy DMA; a BIOS would answer AH=09h).
        .code16
        .section .boot, "awx"
        .globl  _start
_start:
        jmp     main
        nop
        .org    0x0b
bpb_bytes_per_sec:      .word 512
bpb_sec_per_clus:       .byte 1
bpb_reserved:           .word 1
bpb_fats:               .byte 2
bpb_root_entries:       .word 224
bpb_total16:            .word 2880
bpb_media:              .byte 0xf0
bpb_sec_per_fat:        .word 9
bpb_sec_per_track:      .word 18
bpb_heads:              .word 2
bpb_hidden:             .long 0
bpb_total32:            .long 0
bpb_drive:              .byte 0
        .org    0x3e

        # BPB fields (offsets in the boot sector)
        .set    BPB_BYTES_PER_SEC, 0x0b
        .set    BPB_SEC_PER_CLUS, 0x0d
        .set    BPB_RESERVED, 0x0e
        .set    BPB_FATS, 0x10
        .set    BPB_ROOT_ENTRIES, 0x11
        .set    BPB_TOTAL16, 0x13
        .set    BPB_MEDIA, 0x15
        .set    BPB_SEC_PER_FAT, 0x16
        .set    BPB_SEC_PER_TRACK, 0x18
        .set    BPB_HEADS, 0x1a
        .set    BPB_HIDDEN, 0x1c
        .set    BPB_TOTAL32, 0x20
        .set    BPB_DRIVE, 0x24
        .set    SYS_LIMIT_SEG, 0x9000   # stop before 0x90000: EBDA and our stack live above
        .set    BUF, 0x7e00             # one 1 KiB buffer: root dir sector or two FAT sectors
        # Fields are reached as offsets from bp = 7C00h (8-bit displacements keep us in 512
        # bytes); our variables sit just below the boot sector, the stack below them.
        .set    B, 0x7c00
        .set    data_lba, -4
        .set    fat_cached, -8
        .set    cur_lba, -12
.if FAT16
        .set    EOC_MIN, 0xfff8
.else
        .set    EOC_MIN, 0x0ff8
.endif

main:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movw    $B, %bp
        leaw    -16(%bp), %sp
        sti
        cld
        movb    %dl, BPB_DRIVE(%bp)
.if LBA
        # Geometry for the CHS fallback comes from the BIOS, not from the BPB.
        movb    $0x08, %ah
        int     $0x13
        jc      1f
        andw    $0x3f, %cx
        movw    %cx, BPB_SEC_PER_TRACK(%bp)
        movzbw  %dh, %dx
        incw    %dx
        movw    %dx, BPB_HEADS(%bp)
1:
.endif
        xorw    %ax, %ax
        movw    %ax, %es
        orl     $-1, fat_cached(%bp)
        # root directory: after the reserved sectors and the FATs
        movb    BPB_FATS(%bp), %al
        mulw    BPB_SEC_PER_FAT(%bp)
        addw    BPB_RESERVED(%bp), %ax
        xchgw   %ax, %si                # si = root directory sector being scanned
        movw    BPB_ROOT_ENTRIES(%bp), %cx
        addw    $15, %cx
        shrw    $4, %cx                 # cx = root directory sectors (16 entries each)
        leaw    (%si), %ax
        addw    %cx, %ax
        movzwl  %ax, %eax
        movl    %eax, data_lba(%bp)
scan_root:
        movw    $BUF, %bx
        movzwl  %si, %eax
        call    read_sector
        movw    %bx, %di
2:      cmpb    $0, (%di)               # end of directory
        je      no_file
        pusha
        movw    $sys_name, %si
        movw    $11, %cx
        repe cmpsb
        popa
        je      found
        addw    $32, %di
        cmpw    $BUF + 512, %di
        jb      2b
        incw    %si
        loop    scan_root
no_file:
        movw    $msg_nofile, %si
        jmp     fail

found:
        movw    26(%di), %ax            # first cluster (any size above 448 KiB is refused below)
        pushw   $SYS_LOAD_SEG
        popw    %es
load_cluster:
        cmpw    $2, %ax
        jb      no_file                 # empty file or damaged directory entry
        pushw   %ax
        movzwl  %ax, %eax
        decl    %eax
        decl    %eax
        movzbl  BPB_SEC_PER_CLUS(%bp), %ecx
        mull    %ecx
        addl    data_lba(%bp), %eax     # eax = first sector of the cluster
3:      xorw    %bx, %bx
        call    read_sector
        movw    %es, %bx
        addw    $0x20, %bx
        cmpw    $SYS_LIMIT_SEG, %bx
        jae     too_big
        movw    %bx, %es
        incl    %eax
        loop    3b
        popw    %ax
        call    next_cluster
        cmpw    $EOC_MIN, %ax
        jb      load_cluster
        movb    BPB_DRIVE(%bp), %dl
        ljmp    $SYS_LOAD_SEG, $0

# ax = cluster -> ax = next cluster in the chain
next_cluster:
        pushw   %es
        pushw   %ax
        pushw   $0
        popw    %es
        movzwl  %ax, %eax
.if FAT16
        shll    $1, %eax                # 2 bytes per entry
.else
        movl    %eax, %edx
        shrl    $1, %edx
        addl    %edx, %eax              # 1.5 bytes per entry
.endif
        movw    %ax, %di
        andw    $511, %di               # offset in the FAT sector
        shrl    $9, %eax
        addw    BPB_RESERVED(%bp), %ax  # FAT12/16 FATs end far below 64 Ki sectors
        cmpl    fat_cached(%bp), %eax
        je      4f
        movl    %eax, fat_cached(%bp)
        movw    $BUF, %bx               # two sectors: a FAT12 entry may straddle them
        call    read_sector
.if FAT16 == 0
        incl    %eax
        movb    $(BUF + 512) >> 8, %bh
        call    read_sector
.endif
4:      movw    BUF(%di), %ax
        popw    %dx
.if FAT16 == 0
        testb   $1, %dl
        jz      5f
        shrw    $4, %ax
5:      andb    $0x0f, %ah
.endif
        popw    %es
        ret

# Reads the volume-relative sector eax into es:bx. Keeps all registers (readsector.s).
        READ_SECTOR

too_big:
        movw    $msg_big, %si
fail:   pushw   %si
        movw    $msg_prefix, %si
        call    print
        popw    %si
        call    print
        int     $0x18                   # next boot device
6:      hlt
        jmp     6b

print:  lodsb
        testb   %al, %al
        jz      7f
        movb    $0x0e, %ah
        xorw    %bx, %bx
        int     $0x10
        jmp     print
7:      ret

sys_name:   .ascii "SOFTPXE SYS"
msg_prefix: .asciz "\r\nsoftpxe: "
msg_nofile: .asciz "no SOFTPXE.SYS"
msg_big:    .asciz "file too big"
msg_disk:   .asciz "disk error"

        .org    0x1fe
        .byte   0x55, 0xaa
