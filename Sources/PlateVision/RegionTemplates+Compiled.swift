import Foundation

// MARK: - Templates compiled once, for the per-read hot paths

/// Every read asks the templates thousands of small questions (does this text fit a state of the US hint, which
/// spelling of each format is likeliest). Asked of `Set<Character>` through a locked cache, they cost about 3 ms of a
/// ~38 ms picture on one core; asked of bit masks built once, a small fraction of that. The answers are the same.
extension RegionTemplates {
    /// A fixed-length template with each position's Latin letters and digits as a bit mask (`latinCode`), and
    /// whether the position also allows other characters (Hangul, Chinese), which only its set can tell.
    struct Compiled: Sendable {
        let slots: Slots
        let masks: [UInt64]
        let others: [Bool]
        /// How many texts the template spells: the product of its positions' set sizes.
        let combinations: Double

        init(_ slots: Slots) {
            self.slots = slots
            combinations = slots.reduce(1.0) { $0 * Double($1.count) }
            masks = slots.map { set in set.reduce(UInt64(0)) { mask, c in RegionTemplates.latinCode(c).map { mask | (1 << UInt64($0)) } ?? mask } }
            others = slots.map { set in set.contains { RegionTemplates.latinCode($0) == nil } }
        }

        /// Whether position `i` allows the character `c` whose `latinCode` is `code`.
        @inline(__always) func allows(_ i: Int, _ c: Character, code: Int8) -> Bool {
            code >= 0 ? masks[i] & (1 << UInt64(code)) != 0 : others[i] && slots[i].contains(c)
        }

        /// Whether the text (characters and their codes, of this template's length) fits.
        func fits(_ text: CodedText) -> Bool {
            guard text.characters.count == masks.count else { return false }
            for i in masks.indices where !allows(i, text.characters[i], code: text.codes[i]) { return false }
            return true
        }
    }

    /// A text's characters with their `latinCode`s (-1: not a Latin capital or digit), made once per text.
    struct CodedText {
        let characters: [Character]
        let codes: [Int8]
        init(_ text: String) { self.init(Array(text)) }
        init(_ characters: [Character]) {
            self.characters = characters
            codes = characters.map { RegionTemplates.latinCode($0).map(Int8.init) ?? -1 }
        }
    }

    /// A-Z → 0-25, 0-9 → 26-35, anything else nil.
    @inline(__always) static func latinCode(_ c: Character) -> Int? {
        guard let a = c.asciiValue else { return nil }
        switch a {
        case 65...90: return Int(a - 65)
        case 48...57: return Int(a - 48 + 26)
        default: return nil
        }
    }

    /// The lengths the table holds; longer texts are expanded on demand (and cached).
    static let compiledLengths = 1...12

    /// Every region's templates at every length of `compiledLengths`, expanded and compiled once.
    static let compiledTable: [String: [[Compiled]]] = {
        var table: [String: [[Compiled]]] = [:]
        for (region, list) in patterns {
            var byLength = [[Compiled]](repeating: [], count: compiledLengths.upperBound + 1)
            for length in compiledLengths {
                byLength[length] = list.flatMap { expansions(of: $0, length: length) }.map(Compiled.init)
            }
            table[region] = byLength
        }
        return table
    }()

    /// A region (lower case) and a text length: the key of the templates longer than `compiledLengths`.
    struct LengthKey: Hashable { let region: String; let length: Int }

    /// The compiled templates of `region` at `length`: from `compiledTable`, or for longer texts expanded on the first
    /// ask and cached.
    static func compiled(region: String, length: Int) -> [Compiled] {
        if compiledLengths.contains(length) {
            return (compiledTable[region] ?? compiledTable[region.lowercased()])?[length] ?? []
        }
        let key = LengthKey(region: region.lowercased(), length: length)
        slotCache.lock()
        if let hit = longCache[key] { slotCache.unlock(); return hit }
        slotCache.unlock()
        let all = (patterns[key.region] ?? []).flatMap { expansions(of: $0, length: length) }.map(Compiled.init)
        slotCache.lock()
        longCache[key] = all
        slotCache.unlock()
        return all
    }

    /// Whether the text fits a template of `region`.
    static func matches(_ text: CodedText, region: String) -> Bool {
        compiled(region: region, length: text.characters.count).contains { $0.fits(text) }
    }
}
