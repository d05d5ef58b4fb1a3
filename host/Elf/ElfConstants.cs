namespace Donjon.Host.Elf;

/// <summary>
/// The numeric values of the ELF fields Donjon reads, under their names from the System V ABI, its x86-64
/// supplement and the GNU extensions. They keep their ELF spelling so the code can be checked against the specs.
/// </summary>
internal static class ElfConstants
{
    /// <summary>The page size of x86-64 Linux, which ELF files are laid out for, in bytes.</summary>
    public const ulong PageSize = 4096;

    /// <summary>The size of <c>e_ident</c>, the identification bytes every ELF file starts with.</summary>
    public const int IdentSize = 16;

    /// <summary>The size of the 64-bit file header (<c>Elf64_Ehdr</c>), in bytes.</summary>
    public const int Elf64HeaderSize = 64;

    /// <summary>The size of the 32-bit file header (<c>Elf32_Ehdr</c>), in bytes.</summary>
    public const int Elf32HeaderSize = 52;

    /// <summary>The size of one 64-bit program header (<c>Elf64_Phdr</c>), in bytes.</summary>
    public const int Elf64ProgramHeaderSize = 56;

    /// <summary>The size of one 32-bit program header (<c>Elf32_Phdr</c>), in bytes.</summary>
    public const int Elf32ProgramHeaderSize = 32;

    /// <summary>The size of one 64-bit section header (<c>Elf64_Shdr</c>), in bytes.</summary>
    public const int Elf64SectionHeaderSize = 64;

    /// <summary>The size of one 64-bit dynamic entry (<c>Elf64_Dyn</c>), in bytes.</summary>
    public const int Elf64DynamicEntrySize = 16;

    // e_ident indexes and values.
    public const int EI_CLASS = 4;
    public const int EI_DATA = 5;
    public const int EI_VERSION = 6;
    public const int EI_OSABI = 7;
    public const byte ELFCLASS32 = 1;
    public const byte ELFCLASS64 = 2;
    public const byte ELFDATA2LSB = 1;
    public const byte ELFDATA2MSB = 2;
    public const byte EV_CURRENT = 1;

    // e_type.
    public const ushort ET_NONE = 0;
    public const ushort ET_REL = 1;
    public const ushort ET_EXEC = 2;
    public const ushort ET_DYN = 3;
    public const ushort ET_CORE = 4;

    // e_machine.
    public const ushort EM_386 = 3;
    public const ushort EM_ARM = 40;
    public const ushort EM_X86_64 = 62;
    public const ushort EM_AARCH64 = 183;
    public const ushort EM_RISCV = 243;
    public const ushort EM_LOONGARCH = 258;

    /// <summary><c>e_phnum</c> value meaning "the real count is in section 0's <c>sh_info</c>".</summary>
    public const ushort PN_XNUM = 0xffff;

    // p_type.
    public const uint PT_NULL = 0;
    public const uint PT_LOAD = 1;
    public const uint PT_DYNAMIC = 2;
    public const uint PT_INTERP = 3;
    public const uint PT_NOTE = 4;
    public const uint PT_SHLIB = 5;
    public const uint PT_PHDR = 6;
    public const uint PT_TLS = 7;
    public const uint PT_LOOS = 0x6000_0000;
    public const uint PT_GNU_EH_FRAME = 0x6474_e550;
    public const uint PT_GNU_STACK = 0x6474_e551;
    public const uint PT_GNU_RELRO = 0x6474_e552;
    public const uint PT_GNU_PROPERTY = 0x6474_e553;
    public const uint PT_GNU_SFRAME = 0x6474_e554;
    public const uint PT_HIOS = 0x6fff_ffff;
    public const uint PT_LOPROC = 0x7000_0000;
    public const uint PT_HIPROC = 0x7fff_ffff;

    // p_flags.
    public const uint PF_X = 1;
    public const uint PF_W = 2;
    public const uint PF_R = 4;

    // d_tag.
    public const long DT_NULL = 0;
    public const long DT_NEEDED = 1;
    public const long DT_STRTAB = 5;
    public const long DT_STRSZ = 10;
    public const long DT_SONAME = 14;
    public const long DT_RPATH = 15;
    public const long DT_RUNPATH = 29;
    public const long DT_FLAGS_1 = 0x6fff_fffb;

    /// <summary>The <c>DT_FLAGS_1</c> bit a linker sets on a position-independent executable.</summary>
    public const ulong DF_1_PIE = 0x0800_0000;
}
