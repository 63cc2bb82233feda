// Package boot recognises a guest image, places it in guest memory and says
// how the boot vCPU starts.
//
// It never touches KVM: the VMM hands Load the guest RAM as a byte slice
// (guest-physical address 0 upwards), then maps that RAM and the returned
// Regions into KVM and applies Image.Entry to vCPU 0 with Entry.Setup.
//
// Three kinds of image are loaded today, tried in this order:
//
//   - a Linux bzImage is recognised by its setup header and refused with a
//     clear "not supported yet" error (the boot protocol comes later);
//   - a static ELF64 (x86-64) or ELF32 (i386) executable is copied by its
//     program headers and entered in long mode or flat protected mode;
//   - anything else is a raw firmware image, mapped like QEMU's -bios and
//     started from the architectural reset vector.
//
// For ELF images the loader writes its own structures into low RAM, at
// addresses a PT_LOAD segment may not use (Load refuses such an image):
//
//	0x0500-0x0527  GDT: null, code (0x08), data (0x10), TSS (0x18; 16 bytes in long mode)
//	0x0600-0x0667  TSS, all zero (the CPU needs a valid TR, nothing more)
//	0x9000-0x9fff  PML4                        (long mode only)
//	0xa000-0xafff  PDPT                        (long mode only)
//	0xb000-0xefff  four page directories, identity-mapping 0-4 GiB with 2 MiB pages
//
// These sit below 64 KiB, clear of the real-mode IVT and BIOS data area
// (0x000-0x4ff) and of the usual link address of static kernels (1 MiB).
package boot
