// Package boot recognises a guest image, places it in guest memory and says
// how the boot vCPU starts.
//
// It never touches KVM: the VMM hands Load the guest RAM as a byte slice
// (guest-physical address 0 upwards), then maps that RAM and the returned
// Regions into KVM and applies Image.Entry to vCPU 0 with Entry.Setup.
//
// Four kinds of image are loaded, tried in this order:
//
//   - a Linux bzImage, by the x86 boot protocol (Documentation/arch/x86/
//     boot.rst): its setup header read and checked, the protected-mode
//     kernel at 1 MiB, a zero page (boot_params) with the header, the e820
//     memory map, the command line and the initrd, then the 64-bit entry
//     (load address + 0x200, with the loader's identity-mapped page tables)
//     or, for a kernel without one, the 32-bit entry; RSI holds the zero page;
//   - a Linux vmlinux (ELF) with a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY):
//     its segments at their physical addresses, entered in flat protected
//     mode with EBX pointing at a struct hvm_start_info (command line,
//     initrd as module 0, memory map). A vmlinux without the note is refused;
//   - an ELF32 with a multiboot (v1) header in its first 8 KiB (kvm-unit-
//     tests' x86/*.flat): its segments, then the multiboot information
//     (memory sizes and map, "NAME ARGS" command line, the initrd as
//     module 1) in the two pages after the kernel's end and the initrd
//     after them; entered in flat protected mode, EAX=0x2BADB002, EBX the
//     information; with APICs, ACPI tables whose FADT names a PM timer;
//     and what SeaBIOS would have left (biosstate.go): a real-mode vector
//     table with handlers at 0xff000, and an entry stub that programs the
//     8259s and the PIT's 18.2 Hz tick before jumping to the kernel;
//   - any other static ELF64 (x86-64) or ELF32 (i386) executable, copied by
//     its program headers and entered in long mode or flat protected mode;
//   - anything else is a raw firmware image, mapped like QEMU's -bios and
//     started from the architectural reset vector.
//
// For a Linux kernel on a machine with APICs (Options.APIC), the loader
// also writes ACPI tables: RSDP, RSDT, XSDT, a hardware-reduced FADT whose
// reset register is the i8042's, a MADT with a local APIC per vCPU, the
// IOAPIC and the SCI override, and a DSDT naming COM1 and the RTC with
// their IRQs. Without APICs it writes none, and the kernel uses the 8259
// PIC alone.
//
// The loader writes its own structures into low RAM, at addresses an ELF
// segment may not use (Load refuses such an image):
//
//	0x0500-0x0527  GDT: null, code (0x08), data (0x10), TSS (0x18; 16 bytes in long mode)
//	               for Linux entries: code (0x10, __BOOT_CS), data (0x18, __BOOT_DS), TSS (0x20)
//	0x0600-0x0667  TSS, all zero (the CPU needs a valid TR, nothing more)
//	0x1000-0x1fff  PVH: hvm_start_info, module list, memory map     (Linux)
//	0x7000-0x7fff  zero page (boot_params)                            (Linux)
//	0x9000-0x9fff  PML4                        (long mode only)
//	0xa000-0xafff  PDPT                        (long mode only)
//	0xb000-0xefff  four page directories, identity-mapping 0-4 GiB with 2 MiB pages
//	0xf000-0xffff  kernel command line                                (Linux)
//	0xe0000-       ACPI tables, RSDP first                            (Linux, multiboot)
//
// These sit below 64 KiB, clear of the real-mode IVT and BIOS data area
// (0x000-0x4ff) and of the usual link address of static kernels (1 MiB);
// the ACPI tables sit in the BIOS area, where a kernel looks for the RSDP.
// A Linux kernel's memory map reports 0x500-0xffff and the BIOS area
// 0x9fc00-0xfffff reserved (the ACPI tables as ACPI data), the rest of RAM
// below the PCI hole and above 4 GiB usable, and Options.Reserved reserved.
// The initrd goes as high in RAM below 3 GiB as the kernel allows.
package boot
