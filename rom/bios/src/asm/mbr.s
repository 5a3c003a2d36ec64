# softpxe MBR: moves itself to 0000:0600, finds the active partition, loads its first sector
# (the VBR) to 0000:7C00 with INT 13h extensions (AH=42h) or, failing that, the CHS address in
# the partition entry, and jumps to it with DL = drive and DS:SI = the partition entry.
# On a GPT disk (a protective MBR: a partition of type 0xEE) it reads the GPT header at LBA 1
# instead, walks the partition entry array for the first entry with the legacy-BIOS-bootable
# attribute (bit 2, UEFI 2.10 §5.3.3) and loads that partition's first sector (extensions only).
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
        movl    $256, %ecx
        rep movsw
        ljmp    $0, $moved
moved:
        movb    %dl, drive
        movw    $part_table + 4, %si
        movw    $4, %cx
0:      cmpb    $0xee, (%si)
        je      gpt
        addw    $16, %si
        loop    0b
        movw    $part_table, %si
        movb    $4, %cl
1:      testb   $0x80, (%si)
        jnz     found
        addw    $16, %si
        loop    1b
        jmp     no_boot
found:
        movl    8(%si), %eax
        call    read_lba
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
disk_error:
        movw    $msg_disk, %si
        jmp     fail
gpt:    xorl    %eax, %eax
        incw    %ax                     # LBA 1: the GPT header
        call    read_lba
        jc      disk_error
        cmpl    $0x54524150, 0x7c04     # "PART" of the signature "EFI PART"
        jne     no_boot
        movl    0x7c48, %eax            # PartitionEntryLBA (low 32 bits)
        movl    0x7c50, %ecx            # NumberOfPartitionEntries
        movzwl  0x7c54, %ebx            # SizeOfPartitionEntry (128 << n)
        cmpl    $256, %ecx              # bound the walk
        jbe     5f
        movl    $256, %ecx
5:      call    read_lba                # next sector of the entry array
        jc      disk_error
        movw    $0x7c00, %si
6:      jecxz   no_boot
        testb   $0x04, 48(%si)          # Attributes bit 2: legacy BIOS bootable
        jnz     7f
        decl    %ecx
        addw    %bx, %si
        cmpw    $0x7e00, %si
        jb      6b
        incl    %eax
        jmp     5b
no_boot:
        movw    $msg_noboot, %si
        jmp     fail
7:      cmpl    $0, 36(%si)             # StartingLBA must fit in 32 bits
        jne     no_boot
        movl    32(%si), %eax
        call    read_lba
        jc      disk_error
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

# Reads LBA %eax (32 bits) to 0000:7C00 with INT 13h AH=42h; CF set on error; keeps registers.
read_lba:
        pushal
        movl    $0x00010010, dap
        movl    $0x7c00, dap + 4
        movl    %eax, dap + 8
        andl    $0, dap + 12
        movw    $dap, %si
        movb    $0x42, %ah
        movb    drive, %dl
        int     $0x13
        popal
        ret

drive:          .byte 0
# (no active MBR partition, or no legacy-BIOS-bootable GPT partition)
msg_noboot:     .asciz "MBR: no bootable partition\r\n"
msg_disk:       .asciz "MBR: disk read error\r\n"
msg_novbr:      .asciz "MBR: no boot sector\r\n"

        .org    0x1b8
        .set    part_table, 0x0600 + 0x1be
