# softpxe MBR: moves itself to 0000:0600, finds the active partition, loads its first sector
# (the VBR) to 0000:7C00 with INT 13h extensions (AH=42h) or, failing that, the CHS address in
# the partition entry, and jumps to it with DL = drive and DS:SI = the partition entry.
# Bytes 440..510 (disk signature, partition table) belong to the builder.
        .code16
        .section .boot, "awx"
        .globl  _start
        .set    dap, 0x0500
_start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $0x7c00, %sp
        sti
        cld
        movw    $0x7c00, %si
        movw    $0x0600, %di
        movw    $256, %cx
        rep movsw
        ljmp    $0, $moved
moved:
        movb    %dl, drive
        movw    $part_table, %si
        movw    $4, %cx
1:      testb   $0x80, (%si)
        jnz     found
        addw    $16, %si
        loop    1b
        movw    $msg_noactive, %si
        jmp     fail
found:
        movl    $0x00010010, dap
        movl    $0x7c00, dap + 4        # offset 7C00h, segment 0
        movl    8(%si), %eax
        movl    %eax, dap + 8
        movl    $0, dap + 12
        pushw   %si
        movw    $dap, %si
        movb    $0x42, %ah
        movb    drive, %dl
        int     $0x13
        popw    %si
        jnc     loaded
        movw    $4, %di
2:      movb    1(%si), %dh             # head
        movw    2(%si), %cx             # sector + cylinder
        movb    drive, %dl
        movw    $0x7c00, %bx
        movw    $0x0201, %ax
        int     $0x13
        jnc     loaded
        xorw    %ax, %ax
        movb    drive, %dl
        int     $0x13
        decw    %di
        jnz     2b
        movw    $msg_disk, %si
        jmp     fail
loaded:
        cmpw    $0xaa55, 0x7dfe
        jne     bad_vbr
        movb    drive, %dl
        ljmp    $0, $0x7c00
bad_vbr:
        movw    $msg_novbr, %si
fail:   lodsb
        testb   %al, %al
        jz      3f
        movb    $0x0e, %ah
        movw    $7, %bx
        int     $0x10
        jmp     fail
3:      int     $0x18
        cli
4:      hlt
        jmp     4b

drive:          .byte 0
msg_noactive:   .asciz "softpxe MBR: no active partition\r\n"
msg_disk:       .asciz "softpxe MBR: disk read error\r\n"
msg_novbr:      .asciz "softpxe MBR: partition not bootable\r\n"

        .org    0x1b8
        .set    part_table, 0x0600 + 0x1be
