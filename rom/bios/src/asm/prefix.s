# SOFTPXE.SYS prefix: the 16-bit code that the boot record jumps to at 1000:0000.
#
#   header -> serial + banner -> A20 (checked; BIOS, keyboard controller, port 92h) ->
#   memory map (E820; E801 / 88h synthesised into E820 form) -> resident part to the top of base
#   memory (40:13 lowered) -> protected mode -> copy the image to the top of RAM, zero its bss,
#   apply its R_386_RELATIVE relocations -> call core_entry(&BootInfo).
#
# The whole SYS is one static PIE linked at 0 (ld/sys.ld): the prefix and the resident part
# only ever use differences of labels in this one section, which the assembler resolves, so they
# need no relocations; the 32-bit Rust core is relocated by the loop in pm_entry. Field offsets
# below must match `BootInfo` and `RmRegs` in src/bootinfo.rs and src/realmode.rs (both assert
# their layout at compile time).
        .code16
        .section .prefix, "awx"
        .globl  _start
_start:
        jmp     prefix_main
        .org    8
        .ascii  "SOFTPXE\x1a"           # magic, read by `softpxe inspect`
        .long   1                       # header version
hdr_image_size: .long __image_end       # bytes in the file
hdr_mem_size:   .long __mem_end         # bytes in memory (file + bss, stack included)
hdr_rel_start:  .long __rel_start
hdr_rel_end:    .long __rel_end
hdr_entry:      .long core_entry
hdr_stack_top:  .long __stack_top
        .org    64
        softpxe_version                 # macro from build.rs: .ascii "x.y.z"
        .org    96

        # SYS_LOAD_SEG, E820_MAX, BI_* (BootInfo offsets), PXENV_SIZE, BANG_SIZE, SCRATCH_SIZE and
        # NBP_STACK_SIZE come from layout.s, generated from src/layout.rs
        .set    SEL_CODE32, 0x08
        .set    SEL_DATA32, 0x10
        .set    SEL_CODE16, 0x18
        .set    SEL_DATA16, 0x20

# From 16-bit protected mode (CS = the resident part's 16-bit selector) to real mode at `target`
# in the resident segment: 64 KiB 16-bit segments loaded (so the hidden limits suit real mode),
# the resident stack, PE cleared, a far return into the resident segment.
        .macro  LEAVE_PMODE target
        movw    $SEL_DATA16, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        movw    $rm_stack_top - res_start, %sp
        movl    %cr0, %eax
        andb    $0xfe, %al
        movl    %eax, %cr0
        pushw   %cs:res_seg - res_start
        pushw   $\target - res_start
        lretw
        .endm

# Flat 32-bit data segments in every data segment register.
        .macro  FLAT_SEGMENTS
        movw    $SEL_DATA32, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        .endm


        .balign 8
bootinfo:
        .ascii  "SPXB"
        .word   1
        .fill   BI_SIZE - 6, 1, 0

prefix_main:
        cli
        movw    %cs, %ax
        movw    %ax, %ds
        movw    %ax, %es
        xorw    %ax, %ax
        movw    %ax, %ss
        movw    $0x7c00, %sp
        sti
        cld
        movb    %dl, bootinfo - _start + BI_DRIVE
        # keep the boot sector's BPB (the partition offset for USB) for the core
        pushw   %ds
        movw    %ax, %ds
        movw    $0x7c00, %si
        movw    $bootinfo - _start + BI_BPB, %di
        movw    $32, %cx
        rep movsw
        popw    %ds
        call    serial_init
        movw    $msg_start - _start, %si
        call    print
        call    a20_enable
        call    memory_map
        call    place_core
        call    install_resident
        jmp     enter_pmode

# ---------------------------------------------------------------------------------------------
serial_init:                            # COM1, 115200 8N1, FIFO on
        movw    $0x3f9, %dx
        xorb    %al, %al
        outb    %al, %dx                # IER: no interrupts
        addb    $2, %dl
        movb    $0x80, %al
        outb    %al, %dx                # LCR: DLAB
        subb    $3, %dl
        movb    $1, %al
        outb    %al, %dx                # DLL = 1 (115200)
        incw    %dx
        xorb    %al, %al
        outb    %al, %dx                # DLM = 0
        addb    $2, %dl
        movb    $0x03, %al
        outb    %al, %dx                # LCR: 8N1
        decw    %dx
        movb    $0xc7, %al
        outb    %al, %dx                # FCR
        addb    $2, %dl
        movb    $0x03, %al
        outb    %al, %dx                # MCR: DTR, RTS
        ret

# ds:si -> NUL-terminated text, to the screen (INT 10h) and COM1
print:  lodsb
        testb   %al, %al
        jz      2f
        pushw   %ax
        movb    $0x0e, %ah
        xorw    %bx, %bx
        int     $0x10
        movw    $0x3fd, %dx
        movw    $0xffff, %cx
1:      inb     %dx, %al
        testb   $0x20, %al
        loopz   1b
        popw    %ax
        movw    $0x3f8, %dx
        outb    %al, %dx
        jmp     print
2:      ret

# print the message at si, then stop for good
die:    call    print
        movw    $msg_halt - _start, %si
        call    print
3:      cli
        hlt
        jmp     3b

# ---------------------------------------------------------------------------------------------
# CF clear when A20 is on: 0000:0500 and FFFF:0510 (= 100500h) are different bytes.
a20_check:
        pushw   %ds
        pushw   %es
        xorw    %ax, %ax
        movw    %ax, %ds
        decw    %ax
        movw    %ax, %es
        movb    0x0500, %dl
        movb    %es:0x0510, %dh
        movb    $0x00, 0x0500
        movb    $0xff, %es:0x0510
        cmpb    $0xff, 0x0500           # equal: the high write wrapped onto the low byte
        movb    %dh, %es:0x0510
        movb    %dl, 0x0500
        popw    %es
        popw    %ds
        je      1f
        clc
        ret
1:      stc
        ret

# a20_check up to 64 Ki times (the keyboard controller takes its time)
a20_wait:
        movw    $0xffff, %cx
1:      pushw   %cx
        call    a20_check
        popw    %cx
        jnc     2f
        loop    1b
        stc
2:      ret

kbc_wait:                               # until the 8042 input buffer is empty (bounded)
        movw    $0xffff, %cx
1:      inb     $0x64, %al
        testb   $2, %al
        loopnz  1b
        ret

a20_enable:
        xorb    %bl, %bl
        call    a20_check
        jnc     9f
        incb    %bl                     # 1: BIOS INT 15h AX=2401h
        pushw   %bx
        movw    $0x2401, %ax
        int     $0x15
        popw    %bx
        call    a20_check
        jnc     9f
        incb    %bl                     # 2: keyboard controller output port
        call    kbc_wait
        movb    $0xd1, %al
        outb    %al, $0x64
        call    kbc_wait
        movb    $0xdf, %al
        outb    %al, $0x60
        call    kbc_wait
        call    a20_wait
        jnc     9f
        incb    %bl                     # 3: "fast A20", system control port 92h
        inb     $0x92, %al
        orb     $0x02, %al
        andb    $0xfe, %al
        outb    %al, $0x92
        call    a20_wait
        jnc     9f
        movw    $msg_a20 - _start, %si
        jmp     die
9:      movb    %bl, bootinfo - _start + BI_A20
        ret

# ---------------------------------------------------------------------------------------------
# E820 into bootinfo; else E801 or 88h, written as E820 entries. Source: 1 E820, 2 E801, 3 88h.
memory_map:
        movw    $bootinfo - _start + BI_E820, %di
        xorl    %ebx, %ebx
        xorw    %bp, %bp                # entries kept
1:      movl    $0xe820, %eax
        movl    $0x534d4150, %edx       # "SMAP"
        movl    $24, %ecx
        movl    $1, %es:20(%di)         # ACPI 3 attributes: valid unless the BIOS says otherwise
        int     $0x15
        jc      2f
        cmpl    $0x534d4150, %eax
        jne     2f
        movl    %es:8(%di), %eax
        orl     %es:12(%di), %eax
        jz      3f                      # empty entries are dropped
        incw    %bp
        addw    $24, %di
        cmpw    $E820_MAX, %bp
        jae     2f
3:      testl   %ebx, %ebx
        jnz     1b
2:      testw   %bp, %bp
        jz      4f
        movb    $1, %al
        jmp     8f

4:      movw    $bootinfo - _start + BI_E820, %di
        int     $0x12                   # base memory, KiB
        movzwl  %ax, %ecx
        xorl    %eax, %eax
        call    put_entry               # [0, base)
        xorw    %cx, %cx
        xorw    %dx, %dx
        movw    $0xe801, %ax
        int     $0x15
        jc      5f
        jcxz    6f
        movw    %cx, %ax                # some BIOSes answer in CX/DX only, some in AX/BX only
        movw    %dx, %bx
6:      pushw   %bx
        movzwl  %ax, %ecx
        movl    $0x100000, %eax
        call    put_entry               # [1 MiB, 16 MiB): AX KiB
        popw    %cx
        movzwl  %cx, %ecx
        shll    $6, %ecx                # 64 KiB blocks -> KiB
        movl    $0x1000000, %eax
        call    put_entry               # above 16 MiB
        movb    $2, %al
        jmp     8f
5:      movb    $0x88, %ah
        int     $0x15
        jc      7f
        movzwl  %ax, %ecx
        movl    $0x100000, %eax
        call    put_entry
        movb    $3, %al
        jmp     8f
7:      movw    $msg_nomem - _start, %si
        jmp     die
8:      movb    %al, bootinfo - _start + BI_MEMSRC
        movw    %di, %ax
        subw    $bootinfo - _start + BI_E820, %ax
        movb    $24, %cl
        divb    %cl
        movb    %al, bootinfo - _start + BI_E820N
        ret

# es:di <- E820 entry {base eax, length ecx KiB, type 1}; di advances; empty lengths skipped
put_entry:
        jecxz   1f
        movl    %eax, %es:(%di)
        movl    $0, %es:4(%di)
        shll    $10, %ecx
        movl    %ecx, %es:8(%di)
        movl    $0, %es:12(%di)
        movl    $1, %es:16(%di)
        movl    $1, %es:20(%di)
        addw    $24, %di
1:      ret

# ---------------------------------------------------------------------------------------------
# The highest 4 KiB-aligned place above 1 MiB and below 4 GiB where the core (file + bss) fits in
# one usable (type 1) region.
place_core:
        movl    hdr_mem_size - _start, %ebp
        addl    $0xfff, %ebp
        andl    $0xfffff000, %ebp
        movl    %ebp, bootinfo - _start + BI_CORE_SIZE
        xorl    %edi, %edi              # best so far
        movw    $bootinfo - _start + BI_E820, %si
        movzbw  bootinfo - _start + BI_E820N, %cx
        jcxz    8f
1:      cmpl    $1, 16(%si)
        jne     7f
        cmpl    $0, 4(%si)
        jne     7f                      # starts above 4 GiB
        movl    (%si), %eax             # base
        movl    8(%si), %edx
        addl    %eax, %edx              # end
        jc      2f
        cmpl    $0, 12(%si)
        je      3f
2:      movl    $0xfffff000, %edx       # reaches past 4 GiB: stop below it
3:      subl    %ebp, %edx
        jb      7f
        andl    $0xfffff000, %edx
        cmpl    %eax, %edx
        jb      7f
        cmpl    $0x100000, %edx
        jb      7f
        cmpl    %edi, %edx
        jbe     7f
        movl    %edx, %edi
7:      addw    $24, %si
        loop    1b
8:      testl   %edi, %edi
        jnz     9f
        movw    $msg_nomem - _start, %si
        jmp     die
9:      movl    %edi, bootinfo - _start + BI_CORE_PHYS
        ret

# ---------------------------------------------------------------------------------------------
# Copy the resident part under the top of base memory (40:13 lowered by its size in KiB) and
# patch the addresses that depend on where it landed.
        .set    RES_SIZE, res_end - res_start
        # Not copied, only reserved behind the resident part: the NBP's stack and the PXE API's
        # scratch buffers (cached DHCP packets, the UNDI receive buffer), both reachable from
        # real mode. Offsets are in the resident segment.
        .set    NBP_STACK_TOP, ((RES_SIZE + 15) & ~15) + NBP_STACK_SIZE
        .set    SCRATCH_OFF, NBP_STACK_TOP
        .set    RES_TOTAL, SCRATCH_OFF + SCRATCH_SIZE
        .set    RES_KIB, (RES_TOTAL + 1023) / 1024
install_resident:
        pushw   %ds
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    0x413, %ax
        movw    %ax, %cs:bootinfo - _start + BI_BASE_BEFORE
        subw    $RES_KIB, %ax
        movw    %ax, 0x413
        popw    %ds
        movw    %ax, bootinfo - _start + BI_BASE_AFTER
        shlw    $6, %ax                 # KiB -> paragraphs
        movw    %ax, bootinfo - _start + BI_RES_SEG
        movl    $RES_TOTAL, bootinfo - _start + BI_RES_SIZE
        movw    $SCRATCH_OFF, bootinfo - _start + BI_SCRATCH_OFF
        movw    $SCRATCH_SIZE, bootinfo - _start + BI_SCRATCH_SIZE
        movw    $pxenv_entry - res_start, bootinfo - _start + BI_PXENV_ENTRY
        movw    $bang_entry - res_start, bootinfo - _start + BI_BANG_ENTRY
        movw    $int1a_hook - res_start, bootinfo - _start + BI_INT1A
        movw    $int15_hook - res_start, bootinfo - _start + BI_INT15
        movw    $res_data - res_start, bootinfo - _start + BI_RES_DATA
        movw    $pxenv_struct - res_start, bootinfo - _start + BI_PXENV_STRUCT
        movw    $bang_struct - res_start, bootinfo - _start + BI_BANG_STRUCT
        movw    %ax, %es
        movw    $res_start - _start, %si
        xorw    %di, %di
        movw    $RES_SIZE, %cx
        rep movsb
        movzwl  %ax, %ebx
        shll    $4, %ebx                # ebx = physical address of the resident part
        movw    %ax, %es:res_seg - res_start
        leal    gdt - res_start(%ebx), %eax
        movl    %eax, %es:gdtr - res_start + 2
        leal    rm_ret32 - res_start(%ebx), %eax
        movl    %eax, %es:ret32_ptr - res_start
        leal    rm_call32 - res_start(%ebx), %eax
        movl    %eax, bootinfo - _start + BI_RM_CALL
        leal    api32 - res_start(%ebx), %eax
        movl    %eax, %es:api32_ptr - res_start
        movl    %ebx, %eax              # 16-bit descriptors: base = the resident part
        movw    %ax, %es:gdt - res_start + SEL_CODE16 + 2
        movw    %ax, %es:gdt - res_start + SEL_DATA16 + 2
        shrl    $16, %eax
        movb    %al, %es:gdt - res_start + SEL_CODE16 + 4
        movb    %al, %es:gdt - res_start + SEL_DATA16 + 4
        pushw   %ds
        popw    %es
        ret

# ---------------------------------------------------------------------------------------------
enter_pmode:
        cli
        xorl    %eax, %eax
        movw    %cs, %ax
        shll    $4, %eax
        movl    %eax, bootinfo - _start + BI_IMAGE_PHYS
        addl    $pm_entry - _start, %eax
        movl    %eax, pm_jump - _start
        movw    bootinfo - _start + BI_RES_SEG, %es
        lgdtl   %es:gdtr - res_start
        movl    %cr0, %eax
        orb     $1, %al
        movl    %eax, %cr0
        ljmpl   *pm_jump - _start

        .code32
pm_entry:
        FLAT_SEGMENTS
        movl    $0x7c00, %esp
        call    1f
1:      popl    %ebp
        subl    $1b - _start, %ebp      # ebp = where this image was loaded
        movl    bootinfo - _start + BI_CORE_PHYS(%ebp), %ebx
        # copy the file, zero the bss
        movl    %ebp, %esi
        movl    %ebx, %edi
        movl    hdr_image_size - _start(%ebp), %ecx
        rep movsb
        movl    hdr_mem_size - _start(%ebp), %ecx
        subl    hdr_image_size - _start(%ebp), %ecx
        xorl    %eax, %eax
        rep stosb
        # relocations, read from the unrelocated original
        movl    hdr_rel_start - _start(%ebp), %esi
        addl    %ebp, %esi
        movl    hdr_rel_end - _start(%ebp), %edx
        addl    %ebp, %edx
2:      cmpl    %edx, %esi
        jae     4f
        cmpb    $8, 4(%esi)             # R_386_RELATIVE (the build refuses any other kind)
        jne     3f
        movl    (%esi), %eax
        addl    %ebx, (%ebx,%eax)
3:      addl    $8, %esi
        jmp     2b
4:      movl    hdr_stack_top - _start(%ebp), %esp
        addl    %ebx, %esp
        leal    bootinfo - _start(%ebp), %eax
        pushl   %eax
        movl    hdr_entry - _start(%ebp), %eax
        addl    %ebx, %eax
        call    *%eax
5:      cli
        hlt
        jmp     5b
        .code16

pm_jump:        .long 0
                .word SEL_CODE32

msg_start:  .asciz "softpxe: loading\r\n"
msg_a20:    .asciz "softpxe: the A20 gate could not be enabled (tried BIOS, keyboard controller, port 92h)"
msg_nomem:  .asciz "softpxe: no usable memory above 1 MiB for the core (memory map empty or too small)"
msg_halt:   .asciz "\r\nsoftpxe: halted.\r\n"

# =============================================================================================
# The resident part: copied to the top of base memory; runs with CS = its own segment. Holds the
# GDT and the real-mode call facility (later also the PXE entry points and interrupt hooks).
        .balign 16
res_start:
gdt:    .quad   0
        .quad   0x00cf9a000000ffff      # 08: 32-bit flat code
        .quad   0x00cf92000000ffff      # 10: 32-bit flat data
        .quad   0x00009a000000ffff      # 18: 16-bit code, base = resident part (patched)
        .quad   0x000092000000ffff      # 20: 16-bit data, base = resident part (patched)
gdt_end:
gdtr:   .word   gdt_end - gdt - 1
        .long   0                       # patched: physical address of gdt
rm_idtr:
        .word   0x3ff
        .long   0
pm_idtr:
        .word   0
        .long   0
res_seg:        .word 0                 # patched
ret32_ptr:      .long 0                 # patched: physical address of rm_ret32
                .word SEL_CODE32
saved_esp:      .long 0
int_vec:        .long 0
mode_now:       .byte 0
        .balign 2
        # RmRegs (src/realmode.rs): the register block of one BIOS call
        .balign 4
rmr:
rmr_eax:        .long 0
rmr_ebx:        .long 0
rmr_ecx:        .long 0
rmr_edx:        .long 0
rmr_esi:        .long 0
rmr_edi:        .long 0
rmr_ebp:        .long 0
rmr_ds:         .word 0
rmr_es:         .word 0
rmr_flags:      .word 0
rmr_vector:     .byte 0
rmr_mode:       .byte 0                 # 0: INT vector; 1: far call rmr_target, rmr_push pushed
rmr_target:     .long 0                 # offset, segment
rmr_push:       .long 0                 # SEGOFF16 pushed before the far call (the NBP's !PXE)
rmr_end:
        .set    RMR_DWORDS, (rmr_end - rmr) / 4

# void rm_call(RmRegs *regs): cdecl, from the flat 32-bit core with interrupts off. Runs INT
# regs->vector in real mode with interrupts on and returns the registers and flags it left.
        .code32
rm_call32:
        pushal
        call    1f
1:      popl    %ebx
        subl    $1b - res_start, %ebx   # ebx = physical address of the resident part
        sidt    pm_idtr - res_start(%ebx)
        movl    %esp, saved_esp - res_start(%ebx)
        movl    36(%esp), %esi
        leal    rmr - res_start(%ebx), %edi
        movl    $RMR_DWORDS, %ecx
        cld
        rep movsl
        ljmp    $SEL_CODE16, $rm16 - res_start
        .code16
rm16:   # 16-bit protected mode, on to real mode
        LEAVE_PMODE rm_real
rm_real:
        movw    %cs, %ax
        movw    %ax, %ss
        movl    $rm_stack_top - res_start, %esp # upper half clear: BIOS code may use ESP
        movw    %ax, %ds
        xorw    %ax, %ax
        movw    %ax, %fs
        movw    %ax, %gs
        lidt    rm_idtr - res_start
        movw    %ax, %es
        movzbw  rmr_vector - res_start, %bx
        shlw    $2, %bx
        movl    %es:(%bx), %eax
        cmpb    $1, rmr_mode - res_start
        jne     1f
        movl    $NBP_STACK_TOP, %esp    # the NBP gets its own stack (API calls use ours)
        pushl   rmr_push - res_start    # far call: SS:SP+4 will hold this far pointer
        movl    rmr_target - res_start, %eax
1:      movl    %eax, int_vec - res_start
        movb    rmr_mode - res_start, %al
        movb    %al, mode_now - res_start
        movw    rmr_es - res_start, %es
        movl    rmr_eax - res_start, %eax
        movl    rmr_ebx - res_start, %ebx
        movl    rmr_ecx - res_start, %ecx
        movl    rmr_edx - res_start, %edx
        movl    rmr_esi - res_start, %esi
        movl    rmr_edi - res_start, %edi
        movl    rmr_ebp - res_start, %ebp
        movw    rmr_ds - res_start, %ds
        sti
        cmpb    $1, %cs:mode_now - res_start
        je      2f
        pushfw                          # INT n, by hand: flags, far call through the IVT
2:      lcallw  *%cs:int_vec - res_start
        cli
        cld
        movl    %eax, %cs:rmr_eax - res_start
        movl    %ebx, %cs:rmr_ebx - res_start
        movl    %ecx, %cs:rmr_ecx - res_start
        movl    %edx, %cs:rmr_edx - res_start
        movl    %esi, %cs:rmr_esi - res_start
        movl    %edi, %cs:rmr_edi - res_start
        movl    %ebp, %cs:rmr_ebp - res_start
        movw    %ds, %cs:rmr_ds - res_start
        movw    %es, %cs:rmr_es - res_start
        pushfw
        popw    %cs:rmr_flags - res_start
        lgdtl   %cs:gdtr - res_start
        movl    %cr0, %eax
        orb     $1, %al
        movl    %eax, %cr0
        ljmpl   *%cs:ret32_ptr - res_start
        .code32
rm_ret32:
        FLAT_SEGMENTS
        call    1f
1:      popl    %ebx
        subl    $1b - res_start, %ebx
        movl    saved_esp - res_start(%ebx), %esp
        lidt    pm_idtr - res_start(%ebx)
        movl    36(%esp), %edi
        leal    rmr - res_start(%ebx), %esi
        movl    $RMR_DWORDS, %ecx
        rep movsl
        popal
        ret

        .code16
# ---------------------------------------------------------------------------------------------
# Data shared with the core (src/pxeapi.rs `ResData`; the core reaches it at resident + offset).
        .balign 4
res_data:
api_opcode:     .word 0                 # +0
api_seg:        .word 0                 # +2  parameter block SEG:OFF
api_off:        .word 0                 # +4
api_ax:         .word 0                 # +6  AX to return (0 success, 1 failure)
api_busy:       .byte 0                 # +8  a call is inside the core
api_entry_kind: .byte 0                 # +9  0 PXENV+ RMEntry, 1 !PXE EntryPointSP
api_nested:     .word 0                 # +10 nested calls answered without the core
core_api:       .long 0                 # +12 physical address of the core's handler, 0 = none
hide_start:     .long 0                 # +16 memory the INT 15h hook hides (the core)
hide_end:       .long 0                 # +20
old_int1a:      .long 0                 # +24
old_int15:      .long 0                 # +28
nbp_ss:         .word 0                 # +32 the caller's stack during a call
nbp_sp:         .word 0                 # +34
api_saved_esp:  .long 0                 # +36
api_calls:      .long 0                 # +40
api32_ptr:      .long 0                 # patched: physical address of api32
                .word SEL_CODE32
api_caller_esp: .long 0                 # the caller's ESP, GDTR and IDTR during a call
api_caller_gdtr: .word 0
                .long 0
api_caller_idtr: .word 0
                .long 0

# PXENV+ RMEntry: far call with BX = opcode, ES:DI = parameter block (PXE 2.1 §3.2).
pxenv_entry:
        pushfw
        cli
        movw    %bx, %cs:api_opcode - res_start
        movw    %es, %cs:api_seg - res_start
        movw    %di, %cs:api_off - res_start
        movb    $0, %cs:api_entry_kind - res_start
        jmp     api_common

# !PXE EntryPointSP: far call with the opcode, then the parameter block's offset and segment on
# the stack (pushed in reverse: segment first); the caller pops them.
bang_entry:
        pushfw
        cli
        pushw   %bp
        movw    %sp, %bp
        pushw   %ax
        movw    8(%bp), %ax             # bp, flags, ip, cs, then opcode
        movw    %ax, %cs:api_opcode - res_start
        movw    10(%bp), %ax
        movw    %ax, %cs:api_off - res_start
        movw    12(%bp), %ax
        movw    %ax, %cs:api_seg - res_start
        popw    %ax
        popw    %bp
        movb    $1, %cs:api_entry_kind - res_start

api_common:                             # flags of the caller on the stack, interrupts off
        pushal
        pushw   %ds
        pushw   %es
        pushw   %fs
        pushw   %gs
        cmpb    $0, %cs:api_busy - res_start
        jne     api_nested_call
        cmpl    $0, %cs:core_api - res_start
        je      api_unavailable
        movb    $1, %cs:api_busy - res_start
        incl    %cs:api_calls - res_start
        movw    %ss, %cs:nbp_ss - res_start
        movw    %sp, %cs:nbp_sp - res_start
        # The caller's whole ESP, GDTR and IDTR come back as they were: GRUB's real_to_prot
        # reads its return address through the full ESP after the call.
        movl    %esp, %cs:api_caller_esp - res_start
        sgdtl   %cs:api_caller_gdtr - res_start
        sidt    %cs:api_caller_idtr - res_start
        lgdtl   %cs:gdtr - res_start
        movl    %cr0, %eax
        orb     $1, %al
        movl    %eax, %cr0
        ljmpl   *%cs:api32_ptr - res_start

        .code32
api32:
        FLAT_SEGMENTS
        call    1f
1:      popl    %ebx
        subl    $1b - res_start, %ebx
        # The core is inside rm_call (the NBP runs in its far call): run below that frame, and
        # keep saved_esp, which BIOS calls made by the handler overwrite.
        movl    saved_esp - res_start(%ebx), %esp
        movl    %esp, api_saved_esp - res_start(%ebx)
        subl    $256, %esp
        lidt    pm_idtr - res_start(%ebx)
        leal    res_data - res_start(%ebx), %eax
        pushl   %eax
        call    *core_api - res_start(%ebx)
        call    1f
1:      popl    %ebx
        subl    $1b - res_start, %ebx
        movl    api_saved_esp - res_start(%ebx), %eax
        movl    %eax, saved_esp - res_start(%ebx)
        ljmp    $SEL_CODE16, $api_rm16 - res_start
        .code16
api_rm16:                               # (the resident stack is free: the handler's BIOS calls are over)
        LEAVE_PMODE api_real
api_real:
        lidt    %cs:api_caller_idtr - res_start
        lgdtl   %cs:api_caller_gdtr - res_start
        movw    %cs:nbp_ss - res_start, %ss
        movl    %cs:api_caller_esp - res_start, %esp
        movb    $0, %cs:api_busy - res_start
api_return:
        popw    %gs
        popw    %fs
        popw    %es
        popw    %ds
        popal
        popfw                           # the caller's interrupt flag
        movw    %cs:api_ax - res_start, %ax
        testw   %ax, %ax
        jnz     2f
        clc
        lretw
2:      stc
        lretw

# A call while another is inside the core (an NBP's interrupt handler calling UNDI_ISR): ISR
# IN_START is answered "not ours" (softpxe drives the NIC polled unless asked otherwise), any
# other call fails with PXENV_STATUS_FAILURE. The core is not entered.
api_nested_call:
        incw    %cs:api_nested - res_start
api_unavailable:
        lesw    %cs:api_off - res_start, %di
        movw    $1, %es:(%di)           # Status = PXENV_STATUS_FAILURE
        movw    $1, %cs:api_ax - res_start
        cmpw    $0x0014, %cs:api_opcode - res_start
        jne     api_return
        cmpw    $1, %es:2(%di)          # FuncFlag = PXENV_UNDI_ISR_IN_START
        jne     api_return
        movw    $0, %es:(%di)           # Status = success
        movw    $1, %es:2(%di)          # FuncFlag = PXENV_UNDI_ISR_OUT_NOT_OURS
        movw    $0, %cs:api_ax - res_start
        jmp     api_return

# INT 1Ah AX=5650h: "is PXE there?" -> AX=564Eh, ES:BX = PXENV+, CF clear; others chained.
int1a_hook:
        cmpw    $0x5650, %ax
        je      1f
        ljmpw   *%cs:old_int1a - res_start
1:      movw    $0x564e, %ax
        pushw   %cs
        popw    %es
        movw    $pxenv_struct - res_start, %bx
        jmp     hook_ok

# INT 15h: E820, E801 and 88h answered by the BIOS, then trimmed so the memory of the core
# (at the top of RAM) is not offered to the OS an NBP loads.
int15_hook:
        cmpl    $0xe820, %eax
        je      3f
        cmpw    $0xe801, %ax
        je      5f
        cmpb    $0x88, %ah
        je      7f
        ljmpw   *%cs:old_int15 - res_start
3:      pushfw
        lcallw  *%cs:old_int15 - res_start
        jc      9f
        pushal
        cmpl    $1, %es:16(%di)         # usable RAM
        jne     4f
        cmpl    $0, %es:4(%di)          # below 4 GiB
        jne     4f
        movl    %es:(%di), %eax         # base
        movl    %es:8(%di), %edx
        addl    %eax, %edx              # end
        jc      10f
        cmpl    $0, %es:12(%di)
        je      11f
10:     movl    $0xffffffff, %edx
11:     movl    %cs:hide_start - res_start, %ecx
        call    trim_entry              # the core at the top of RAM
        movzwl  %cs:res_seg - res_start, %ecx
        shll    $4, %ecx
        call    trim_entry              # the resident part under 640 KiB (40:13 says so too)
4:      popal
        jmp     hook_ok
5:      pushfw
        lcallw  *%cs:old_int15 - res_start
        jc      9f
        pushl   %edx
        movl    %cs:hide_start - res_start, %edx
        cmpl    $0x1000000, %edx
        jae     6f
        subl    $0x100000, %edx         # the core is below 16 MiB: nothing above 1 MiB past it
        shrl    $10, %edx
        movw    %dx, %ax
        movw    %dx, %cx
        xorw    %bx, %bx
        popl    %edx
        xorw    %dx, %dx
        jmp     hook_ok
6:      subl    $0x1000000, %edx        # 64 KiB blocks above 16 MiB up to the core
        shrl    $16, %edx
        cmpw    %dx, %bx
        jbe     12f
        movw    %dx, %bx
12:     movw    %dx, %ax
        popl    %edx
        cmpw    %ax, %dx
        jbe     13f
        movw    %ax, %dx
13:     movw    $0x3c00, %ax            # 15 MiB between 1 and 16 MiB
        movw    %ax, %cx
        jmp     hook_ok
7:      pushfw
        lcallw  *%cs:old_int15 - res_start
        jc      9f
        pushl   %edx
        movl    %cs:hide_start - res_start, %edx
        subl    $0x100000, %edx
        shrl    $10, %edx
        cmpl    $0xffff, %edx
        jbe     8f
        movw    $0xffff, %dx
8:      cmpw    %dx, %ax
        jbe     14f
        movw    %dx, %ax
14:     popl    %edx
        jmp     hook_ok
9:      jmp     hook_err

# Return from a hooked interrupt with CF set as the answer needs, and the caller's other flags
# (its interrupt flag above all) as they were: IRET with the saved FLAGS patched.
hook_ok:
        pushw   %bp
        movw    %sp, %bp
        andw    $0xfffe, 6(%bp)
        popw    %bp
        iret
hook_err:
        pushw   %bp
        movw    %sp, %bp
        orw     $1, 6(%bp)
        popw    %bp
        iret

# es:di = an E820 entry of usable RAM [eax, edx): if ecx lies inside, the entry ends at ecx.
trim_entry:
        cmpl    %eax, %ecx
        jb      1f
        cmpl    %edx, %ecx
        jae     1f
        movl    %ecx, %edx
        subl    %eax, %ecx
        movl    %ecx, %es:8(%di)
        movl    $0, %es:12(%di)
1:      ret

# PXENV+ (44 bytes) and !PXE (88 bytes), filled in by the core before the NBP starts.
        .balign 16
pxenv_struct:
        .fill   PXENV_SIZE, 1, 0
        .balign 16
bang_struct:
        .fill   BANG_SIZE, 1, 0

        .balign 4
rm_stack:
        .fill   2048, 1, 0
rm_stack_top:
res_end:
        .code32
