# One sector read for the boot records (fatboot.s, fat32boot.s), as a macro each expands once:
#   read_sector: eax = sector relative to the volume (BPB hidden sectors are added), es:bx =
#   buffer; keeps all registers. With LBA = 1 it tries INT 13h AH=42h first; CHS reads use the
#   BPB's (or the BIOS's) geometry, 6 tries with a disk reset between them; a failure prints
#   msg_disk through `fail`. Needs bp = 7C00h and BPB_HIDDEN, BPB_DRIVE, BPB_SEC_PER_TRACK,
#   BPB_HEADS, cur_lba defined by the including file.
        .macro  READ_SECTOR
read_sector:
        pushal
        addl    BPB_HIDDEN(%bp), %eax
        movl    %eax, cur_lba(%bp)
.if LBA
        movw    %sp, %di
        pushl   $0                      # disk address packet: LBA, buffer, 1 sector, size 16
        pushl   %eax
        pushw   %es
        pushw   %bx
        pushw   $1
        pushw   $16
        movw    %sp, %si
        movb    $0x42, %ah
        movb    BPB_DRIVE(%bp), %dl
        int     $0x13
        movw    %di, %sp
        jnc     read_ok
.endif
        movw    $6, %di                 # tries, with a disk reset after each failure
chs_retry:
        movl    cur_lba(%bp), %eax
        xorl    %edx, %edx
        movzwl  BPB_SEC_PER_TRACK(%bp), %ecx
        divl    %ecx
        incw    %dx
        movw    %dx, %cx                # cl = sector (1-based)
.if LBA
        movl    %eax, %edx              # dx:ax = track (a disk can have more than 64 Ki)
        shrl    $16, %edx
.else
        xorw    %dx, %dx
.endif
        divw    BPB_HEADS(%bp)      # ax = cylinder, dx = head
        movb    %dl, %dh
        movb    %al, %ch
        shlb    $6, %ah
        orb     %ah, %cl
        movb    BPB_DRIVE(%bp), %dl
        movw    $0x0201, %ax
        int     $0x13
        jnc     read_ok
        xorw    %ax, %ax
        int     $0x13
        decw    %di
        jnz     chs_retry
        movw    $msg_disk, %si
        jmp     fail
read_ok:
        popal
        ret
        .endm
