# CPU exception entry stubs (vectors 0-31) for the 32-bit core. Each pushes a dummy error code
# where the CPU pushes none, then its vector, and all end in exception_handler(&ExceptionFrame)
# (src/idt.rs), which reports and halts: a fault is shown, never a triple fault.
        .section .text.exceptions, "ax"
        .code32
        .irp    n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
exc_\n:
        pushl   $0
        pushl   $\n
        jmp     exc_common
        .endr
        .irp    n, 8,10,11,12,13,14,17,21,29,30
exc_\n:
        pushl   $\n
        jmp     exc_common
        .endr
exc_common:
        cld
        pushal
        movl    %cr2, %eax
        pushl   %eax
        pushl   %esp
        call    exception_handler
1:      cli
        hlt
        jmp     1b

        .section .data.rel.ro.exc_stubs, "aw"
        .balign 4
        .globl  exc_stubs
exc_stubs:
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   exc_\n
        .endr
