# softpxe boot record for a FAT32 partition (USB images of 512 MiB and more): two sectors.
#
# Sector 0 (the VBR, code after the FAT32 BPB at 0x5A) asks the BIOS for the geometry, loads
# sector 2 of the partition (a reserved sector, unused by FAT32) to 0000:7E00 and continues there.
# Stage 2 walks the root directory's cluster chain for SOFTPXE.SYS, follows the file's chain
# through the 32-bit FAT and loads it at 1000:0000, one sector per INT 13h call (AH=42h, CHS as
# fallback), then jumps to it with DL = drive, as the FAT12/16 boot records do (fatboot.s).
        .code16
        .section .boot, "awx"
        .globl  _start
_start:
        jmp     main
        nop
        .org    0x5a

        .set    BPB_SEC_PER_CLUS, 0x0d
        .set    BPB_RESERVED, 0x0e
        .set    BPB_FATS, 0x10
        .set    BPB_SEC_PER_TRACK, 0x18
        .set    BPB_HEADS, 0x1a
        .set    BPB_HIDDEN, 0x1c
        .set    BPB_SPF32, 0x24
        .set    BPB_ROOT_CLUSTER, 0x2c
        .set    BPB_DRIVE, 0x40
        .set    STAGE2_SECTOR, 2
        .set    SYS_LIMIT_SEG, 0x9000
        .set    DIRBUF, 0x8000
        .set    FATBUF, 0x8200
        .set    data_lba, -4
        .set    fat_cached, -8
        .set    cur_lba, -12

main:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movw    $0x7c00, %bp
        leaw    -16(%bp), %sp
        sti
        cld
        movb    %dl, BPB_DRIVE(%bp)
        movb    $0x08, %ah              # the BIOS's geometry, for the CHS fallback
        int     $0x13
        jc      1f
        andw    $0x3f, %cx
        movw    %cx, BPB_SEC_PER_TRACK(%bp)
        movzbw  %dh, %dx
        incw    %dx
        movw    %dx, BPB_HEADS(%bp)
1:      xorw    %ax, %ax
        movw    %ax, %es
        movl    $STAGE2_SECTOR, %eax
        movw    $0x7e00, %bx
        call    read_sector
        cmpw    $0x3253, stage2_magic   # "S2": the builder wrote stage 2
        jne     no_stage2
        jmp     stage2

# Reads the partition-relative sector eax into es:bx. Keeps all registers (readsector.s).
        .set    LBA, 1
        READ_SECTOR

no_stage2:
        movw    $msg_stage2, %si
        jmp     fail
no_file:
        movw    $msg_nofile, %si
        jmp     fail
too_big:
        movw    $msg_big, %si
fail:   pushw   %si
        movw    $msg_prefix, %si
        call    print
        popw    %si
        call    print
        int     $0x18
4:      hlt
        jmp     4b
print:  lodsb
        testb   %al, %al
        jz      5f
        movb    $0x0e, %ah
        xorw    %bx, %bx
        int     $0x10
        jmp     print
5:      ret

sys_name:   .ascii "SOFTPXE SYS"
msg_prefix: .asciz "\r\nsoftpxe: "
msg_nofile: .asciz "no SOFTPXE.SYS"
msg_big:    .asciz "file too big"
msg_disk:   .asciz "disk error"
msg_stage2: .asciz "boot record damaged"
        .org    0x1fe
        .byte   0x55, 0xaa

# ---- stage 2: partition sector 2, at 0000:7E00 ----------------------------------------------
stage2_magic:
        .ascii  "S2"
stage2:
        orl     $-1, fat_cached(%bp)
        movzbl  BPB_FATS(%bp), %eax     # data area: after the reserved sectors and the FATs
        mull    BPB_SPF32(%bp)
        movzwl  BPB_RESERVED(%bp), %ecx
        addl    %ecx, %eax
        movl    %eax, data_lba(%bp)
        movl    BPB_ROOT_CLUSTER(%bp), %eax
root_cluster:                           # eax = a cluster of the root directory
        cmpl    $2, %eax
        jb      no_file
        cmpl    $0x0ffffff8, %eax
        jae     no_file
        pushl   %eax
        call    cluster_lba
        movzbw  BPB_SEC_PER_CLUS(%bp), %cx
6:      movw    $DIRBUF, %bx
        call    read_sector
        movw    %bx, %di
7:      cmpb    $0, (%di)               # end of directory
        je      no_file
        pusha
        movw    $sys_name, %si
        movw    $11, %cx
        repe cmpsb
        popa
        je      found
        addw    $32, %di
        cmpw    $DIRBUF + 512, %di
        jb      7b
        incl    %eax
        loop    6b
        popl    %eax
        call    next_cluster
        jmp     root_cluster

found:
        popl    %eax
        movw    20(%di), %ax            # first cluster, high half
        shll    $16, %eax
        movw    26(%di), %ax            # and low half
        pushw   $SYS_LOAD_SEG
        popw    %es
load:
        cmpl    $0x0ffffff8, %eax
        jae     done
        cmpl    $2, %eax
        jb      no_file
        pushl   %eax
        call    cluster_lba
        movzbw  BPB_SEC_PER_CLUS(%bp), %cx
8:      xorw    %bx, %bx
        call    read_sector
        movw    %es, %bx
        addw    $0x20, %bx
        cmpw    $SYS_LIMIT_SEG, %bx
        jae     too_big
        movw    %bx, %es
        incl    %eax
        loop    8b
        popl    %eax
        call    next_cluster
        jmp     load
done:
        movb    BPB_DRIVE(%bp), %dl
        ljmp    $SYS_LOAD_SEG, $0

# eax = cluster -> eax = its first sector (partition-relative)
cluster_lba:
        pushl   %ecx
        pushl   %edx
        subl    $2, %eax
        movzbl  BPB_SEC_PER_CLUS(%bp), %ecx
        mull    %ecx
        addl    data_lba(%bp), %eax
        popl    %edx
        popl    %ecx
        ret

# eax = cluster -> eax = the next one (28 bits of its FAT32 entry)
next_cluster:
        pushw   %es
        pushl   %ecx
        pushw   %bx
        pushw   %di
        pushw   $0
        popw    %es
        shll    $2, %eax
        movw    %ax, %di
        andw    $511, %di
        shrl    $9, %eax
        movzwl  BPB_RESERVED(%bp), %ecx
        addl    %ecx, %eax
        cmpl    fat_cached(%bp), %eax
        je      9f
        movl    %eax, fat_cached(%bp)
        movw    $FATBUF, %bx
        call    read_sector
9:      movl    FATBUF(%di), %eax
        andl    $0x0fffffff, %eax
        popw    %di
        popw    %bx
        popl    %ecx
        popw    %es
        ret
        .org    0x400
