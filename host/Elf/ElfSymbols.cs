using ELFSharp.ELF;
using ELFSharp.ELF.Sections;

namespace Donjon.Host.Elf;

/// <summary>The function and object symbols of an ELF file's <c>.symtab</c>, to name an address in a fault report.</summary>
internal sealed class ElfSymbols
{
    private readonly List<(ulong Start, ulong Size, string Name)> _symbols;

    private ElfSymbols(List<(ulong Start, ulong Size, string Name)> symbols) => _symbols = symbols;

    /// <summary>Whether the file had a symbol table with at least one function or object.</summary>
    public bool Any => _symbols.Count > 0;

    /// <summary>Reads the symbols of <paramref name="contents"/>; none when it has no <c>.symtab</c> (stripped) or cannot be read.</summary>
    public static ElfSymbols Read(ReadOnlyMemory<byte> contents)
    {
        var symbols = new List<(ulong, ulong, string)>();
        try
        {
            if (ELFReader.TryLoad(new MemoryStream(contents.ToArray(), writable: false), true, out IELF? elf))
            {
                using (elf)
                {
                    if (elf.TryGetSection(".symtab", out ISection? section) && section is ISymbolTable table)
                    {
                        foreach (SymbolEntry<ulong> entry in table.Entries.OfType<SymbolEntry<ulong>>())
                        {
                            if (entry.Type is SymbolType.Function or SymbolType.Object && entry.Value != 0 && !string.IsNullOrEmpty(entry.Name))
                            {
                                symbols.Add((entry.Value, entry.Size, entry.Name));
                            }
                        }
                    }
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A damaged symbol table only costs the report its symbol name.
            symbols.Clear();
        }

        symbols.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return new ElfSymbols(symbols);
    }

    /// <summary>
    /// The symbol that contains <paramref name="address"/> (an ELF virtual address) and the offset into it; a
    /// symbol of unknown size (0) contains what lies before the next symbol.
    /// </summary>
    public (string Name, ulong Offset)? Find(ulong address)
    {
        int low = 0, high = _symbols.Count - 1, found = -1;
        while (low <= high)
        {
            int middle = (low + high) / 2;
            if (_symbols[middle].Start <= address)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        // Several symbols may share a start; prefer one whose size covers the address.
        for (int i = found; i >= 0 && _symbols[i].Start <= address; i--)
        {
            (ulong start, ulong size, string name) = _symbols[i];
            if (address - start < size || (size == 0 && i == found))
            {
                return (name, address - start);
            }

            if (found - i > 16)
            {
                break;
            }
        }

        return null;
    }
}
