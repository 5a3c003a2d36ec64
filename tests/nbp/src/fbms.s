# fbms.krn: a tiny "Linux kernel" for the unload tests. It has a real-mode setup sector with a
# boot protocol 2.02 header (Documentation/x86/boot.rst), so pxelinux (`LINUX fbms.krn`) and
# GRUB (`linux16 fbms.krn`) load it the way they load a kernel: pxelinux unloads the PXE stack
# first, GRUB does not. The setup code reports on COM1 the free base memory (40:13, KiB) and
# whether INT 1Ah AX=5650h still finds a PXE stack, then halts:
#   fbms: base memory 639 KiB, PXE gone
# Layout: sector 0 (header at 0x1F1), sector 1 = setup code (entered at setup_seg+0x20:0000,
# i.e. file offset 0x200), then 512 bytes of "protected-mode kernel" that never runs.
        .code16
        .section .nbp, "awx"
        .globl  _start
_start:
        .org    0x1f1
        .byte   1                       # setup_sects
        .word   0                       # root_flags
        .long   32                      # syssize (16-byte units): 512 bytes
        .word   0                       # ram_size
        .word   0xffff                  # vid_mode: normal
        .word   0                       # root_dev
        .word   0xaa55                  # boot_flag
setup:                                  # file offset 0x200: the real-mode entry
        jmp     code
        .ascii  "HdrS"                  # header
        .word   0x0202                  # version
        .long   0                       # realmode_swtch
        .word   0x1000                  # start_sys_seg
        .word   0                       # kernel_version
        .byte   0                       # type_of_loader
        .byte   0x01                    # loadflags: LOADED_HIGH
        .word   0x8000                  # setup_move_size
        .long   0x100000                # code32_start
        .long   0                       # ramdisk_image
        .long   0                       # ramdisk_size
        .long   0                       # bootsect_kludge
        .word   0                       # heap_end_ptr
        .byte   0                       # ext_loader_ver
        .byte   0                       # ext_loader_type
        .long   0                       # cmd_line_ptr
        .set    O, setup                # CS:0000 is `setup`: offsets below are from there
code:
        cli
        movw    %cs, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movw    $0x1000, %sp            # inside our own 64 KiB segment
        sti
        movw    $msg_base - O, %si
        call    puts
        xorw    %ax, %ax
        movw    %ax, %es
        movw    %es:0x413, %ax
        call    dec16
        movw    $msg_kib - O, %si
        call    puts
        movw    $0x5650, %ax
        int     $0x1a
        movw    %cs, %bx
        movw    %bx, %ds
        movw    $msg_gone - O, %si
        jc      1f
        cmpw    $0x564e, %ax
        jne     1f
        movw    $msg_there - O, %si
1:      call    puts
2:      cli
        hlt
        jmp     2b

# AX as decimal
dec16:
        xorw    %cx, %cx
        movw    $10, %bx
1:      xorw    %dx, %dx
        divw    %bx
        pushw   %dx
        incw    %cx
        testw   %ax, %ax
        jnz     1b
2:      popw    %ax
        addb    $'0', %al
        call    putc
        loop    2b
        ret

puts:
        lodsb
        testb   %al, %al
        jz      1f
        call    putc
        jmp     puts
1:      ret

# one byte to COM1 (0x3F8), waiting a bounded time for the transmitter
putc:
        pushw   %ax
        pushw   %cx
        pushw   %dx
        movb    %al, %ah
        movw    $0x3fd, %dx
        movw    $0xffff, %cx
1:      inb     %dx, %al
        testb   $0x20, %al
        loopz   1b
        movw    $0x3f8, %dx
        movb    %ah, %al
        outb    %al, %dx
        popw    %dx
        popw    %cx
        popw    %ax
        ret

msg_base:  .asciz "fbms: base memory "
msg_kib:   .asciz " KiB, PXE "
msg_gone:  .asciz "gone\r\n"
msg_there: .asciz "still there\r\n"
        .org    0x400
        .fill   512, 1, 0xf4            # the "protected-mode kernel": hlt
