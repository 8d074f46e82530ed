import Foundation

/// Licence-plate templates per region (Plate Recognizer codes: `us-ca`, `de`, `br`, `kr`, `cn`, ...).
///
/// Patterns use OpenALPR's compact syntax, compiled to anchored regular expressions:
/// `@` a letter A–Z, `#` a digit, `?` a letter or digit, `&` a Hangul syllable used on Korean plates,
/// `*` a Chinese province character; `[...]`, `{m,n}` and `(a|b)` pass through (write `{0,1}`, not `?`, for an optional part); anything else is literal.
/// The lists hold the current and recent standard issues of each region, not every vanity or special
/// series, so `region: strict` drops vanity plates, as the Plate Recognizer docs warn.
public enum RegionTemplates {
    /// Hangul syllables on Korean plates (private, commercial, rental, military-free series).
    public static let hangulPlateSyllables: String =
        "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호"
    /// One-character abbreviations of Chinese provinces, municipalities and regions.
    public static let chineseProvinces: String = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
    /// Korean two-syllable region prefixes on older plates.
    static let koreanRegions = "(서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충북|충남|전북|전남|경북|경남|제주)"

    /// Patterns per region code.
    public static let patterns: [String: [String]] = {
        var p: [String: [String]] = [:]
        // United States: common passenger series per state (https://en.wikipedia.org/wiki/United_States_license_plate_designs_and_serial_formats).
        let us: [String: [String]] = [
            "al": ["#@@####", "##@@###", "#@#####", "##@####", "##@@##", "#@@@###"],
            "ak": ["@@@###", "@@@@##"],
            "az": ["@@@####", "###@@@", "@@@###", "###@@@#"],
            "ar": ["###@@@", "@@@##@", "#@@@@#"],
            "ca": ["#@@@###", "#@@@##", "###@###", "#@#####", "##@@###"],
            "co": ["###@@@", "@@@####", "@@@@##", "@@@###"],
            "ct": ["#@@@@#", "@@#####", "###@@@", "@@@####", "##@@##"],
            "de": ["######", "#####", "####", "@@####", "@#####"],
            "dc": ["@@####", "@@@###", "####"],
            "fl": ["@@@@##", "###@@@", "@##@@@", "@@@@###", "####@@", "@@@###", "@###@@"],
            "ga": ["@@@####", "###@@@", "@@@###", "@@@@###"],
            "hi": ["@@@###", "###@@@"],
            "id": ["#@#####", "#@@####", "#@####", "##@####", "##@@###", "@#####", "#@@###", "@@####"],
            "il": ["@@#####", "@######", "@@@####", "###@@@", "@@@###", "@@####"],
            "in": ["###@", "###@@", "###@@@", "@@@###", "@@@####"],
            "ia": ["@@@###", "###@@@", "@@@####"],
            "ks": ["###@@@", "@@@###", "@@@####"],
            "ky": ["###@@@", "@@@###", "@@@####"],
            "la": ["@@@###", "###@@@", "@###@@@"],
            "me": ["####@@", "###@@", "@@@####", "#####"],
            "md": ["#@@####", "@@@####", "#@@@##", "###@@@"],
            "ma": ["#@@@##", "###@@#", "####@@", "##@@##", "@@@###", "#@@###", "#####@"],
            "mi": ["@@@####", "###@@@", "@@@###", "#@@@##"],
            "mn": ["###@@@", "@@@###", "@@@####"],
            "ms": ["@@@####", "@@@###", "@@#####"],
            "mo": ["@@#@#@", "@@#@#@#", "###@@@", "@@@###"],
            "mt": ["#####@", "##@####", "#@####@", "#####@@", "###@###", "@@@###"],
            "ne": ["@@@###", "###@@@", "##@###", "#@####", "##@####", "#@#####", "##@##", "#@###"],
            "nv": ["###@##", "##@###", "#@####", "@@@###", "###@@@"],
            "nh": ["#######", "######", "#######", "@@@###", "###@@@"],
            "nj": ["@##@@@", "@@@####", "@@@##@", "@@@###"],
            "nm": ["@@@###", "###@@@", "###@@@@"],
            "ny": ["@@@####", "@@@###", "###@@@", "@@#####"],
            "nc": ["@@@####", "@@@###", "###@@@"],
            "nd": ["###@@@", "@@@###"],
            "oh": ["@@@####", "@@@###", "###@@@"],
            "ok": ["@@@###", "###@@@", "@@@####"],
            "or": ["###@@@", "@@@###", "###@@@@"],
            "pa": ["@@@####", "@@@###", "###@@@"],
            "ri": ["@@###", "######", "#####", "###@@@", "@@@###", "@####", "##@###"],
            "sc": ["@@@###", "###@@@", "@@@####"],
            "sd": ["#@@###", "##@###", "#@####", "##@@##", "#@@@##"],
            "tn": ["@#####", "###@@@", "@@@###", "#@@@##"],
            "tx": ["@@@####", "@@@###", "###@@@", "@##@@@", "###@@@@"],
            "ut": ["@###@@", "###@@@", "@@@###", "@##@@"],
            "vt": ["@@@###", "###@###", "###@@@"],
            "va": ["@@@####", "@@@###", "###@@@"],
            "wa": ["@@@####", "###@@@", "@@@###"],
            "wv": ["#@@###", "##@###", "@@@###", "#@####"],
            "wi": ["@@@####", "###@@@", "@@@###", "###@@@#"],
            "wy": ["#####", "######", "##@###", "##@####", "#@####", "#####@"],
            "pr": ["@@@###"],
        ]
        for (state, list) in us { p["us-\(state)"] = list }
        // European countries, without the country band (the datasets' convention).
        p["at"] = ["@{1,2}#{1,5}@{1,3}", "@{1,2}@{1,3}#{1,5}", "@{1,2}#{3,6}"]
        p["be"] = ["#@@@###", "@@@###", "###@@@"]
        p["bg"] = ["@{1,2}####@{1,2}"]
        p["hr"] = ["@@#{3,4}@{1,2}"]
        p["cy"] = ["@@@###"]
        p["cz"] = ["#@#####", "#@@####", "#@?####"]
        p["dk"] = ["@@#####"]
        p["ee"] = ["###@@@"]
        p["fi"] = ["@{2,3}#{1,3}"]
        p["fr"] = ["@@###@@", "#{1,4}@{2,3}#{2}"]
        p["de"] = ["@{1,3}@{1,2}#{1,4}[EH]{0,1}"]
        p["gr"] = ["@@@####"]
        p["hu"] = ["@@@###", "@@@@###"]
        p["ie"] = ["##[12]{0,1}[A-Z]{1,2}#{1,6}"]
        p["it"] = ["@@###@@"]
        p["lv"] = ["@@#{1,4}"]
        p["lt"] = ["@@@###"]
        p["lu"] = ["@@####", "#{4,5}"]
        p["mt"] = ["@@@###"]
        p["nl"] = ["@@####", "####@@", "##@@##", "@@##@@", "@@@@##", "##@@@@", "##@@@#", "#@@@##", "@@###@", "@###@@", "@@@##@", "#@@###", "###@@#"]
        p["no"] = ["@@#####"]
        p["pl"] = ["@{2,3}[A-Z0-9]{4,5}"]
        p["pt"] = ["@@##@@", "##@@##", "####@@", "@@####", "##@@@@"]
        p["ro"] = ["@{1,2}#{2,3}@@@"]
        p["sk"] = ["@@###@@", "@@@###"]
        p["si"] = ["@@[A-Z0-9]{4,5}"]
        p["es"] = ["####[BCDFGHJKLMNPRSTVWXYZ]{3}", "@{1,2}####@{1,2}"]
        p["se"] = ["@@@##[A-Z0-9]"]
        p["gb"] = ["@@##@@@", "@###@@@", "@@@###@"]
        p["ch"] = ["@@#{1,6}"]
        p["ua"] = ["@@####@@"]
        // Brazil: grey series LLL-DDDD and Mercosul LLLDLDD, whose letter stands for the old second digit
        // (0 -> A ... 9 -> J), so it is one of A-J.
        p["br"] = ["@@@####", "@@@#[A-J]##"]
        // Korea: 12가3456 / 123가4567, older plates with a region name.
        p["kr"] = ["##&####", "###&####", "\(koreanRegions)##&####"]
        // China: province + letter + 5 (blue, yellow), + 6 (green new-energy), special endings.
        p["cn"] = ["*@[A-Z0-9]{5}", "*@[A-Z0-9]{6}", "*@[A-Z0-9]{4}[学警港澳挂领]"]
        return p
    }()

    /// Every known region code, sorted.
    public static let codes: [String] = patterns.keys.sorted()

    /// The regions `us` and `eu` stand for.
    private static let states = codes.filter { $0.hasPrefix("us-") }
    private static let europe = codes.filter { !$0.contains("-") && !["br", "kr", "cn"].contains($0) }

    /// Whether `code` names a region or a country group (`us`, `eu`) this table knows.
    public static func isKnown(_ code: String) -> Bool { !expand(code).isEmpty }

    /// The region codes a hint covers: `us` means every state, `eu` every European country, else the code itself.
    public static func expand(_ hint: String) -> [String] {
        let code = hint.lowercased()
        if patterns[code] != nil { return [code] }
        if code == "us" { return states }
        if code == "eu" { return europe }
        return []
    }

    /// Whether `text` (upper case, no separators) matches a template of `region`.
    /// (Checked against the fixed-length expansions, much faster than the regular expressions.)
    public static func matches(_ text: String, region: String) -> Bool {
        matches(CodedText(text), region: region)
    }

    /// The same answer from the compiled regular expressions (kept to check the expansions against).
    static func matchesRegex(_ text: String, region: String) -> Bool {
        compiled[region.lowercased()]?.contains { $0.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil } ?? false
    }

    /// Regions whose templates `text` matches, sorted.
    public static func matchingRegions(_ text: String, among candidates: [String]? = nil) -> [String] {
        matchingRegions(CodedText(text), among: candidates)
    }

    /// Regions whose templates the coded text matches, in `candidates`' order (all regions, sorted, when nil).
    static func matchingRegions(_ coded: CodedText, among candidates: [String]? = nil) -> [String] {
        (candidates ?? codes).filter { matches(coded, region: $0) }
    }

    /// Translates one pattern into an anchored regular expression.
    static func regex(for pattern: String) -> String {
        var out = "^"
        for ch in pattern {
            switch ch {
            case "@": out += "[A-Z]"
            case "#": out += "[0-9]"
            case "?": out += "[A-Z0-9]"
            case "&": out += "[\(hangulPlateSyllables)]"
            case "*": out += "[\(chineseProvinces)]"
            default: out.append(ch)
            }
        }
        return out + "$"
    }

    // Compiled once; NSRegularExpression is thread-safe for matching.
    private static let compiled: [String: [NSRegularExpression]] = patterns.mapValues { list in
        list.map { try! NSRegularExpression(pattern: regex(for: $0)) }
    }
}

// MARK: - Fixed-length expansions, for template-constrained decoding

extension RegionTemplates {
    /// The characters each position of a fixed-length template allows.
    public typealias Slots = [Set<Character>]

    static let letters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    static let digits = Set("0123456789")

    /// Every way `pattern` spells a text of exactly `length` characters, as per-position character sets.
    /// Bounded: a pattern with more than `limit` expansions of that length gives the first `limit`.
    public static func expansions(of pattern: String, length: Int, limit: Int = 256) -> [Slots] {
        let tokens = tokenize(pattern)
        var out: [Slots] = []
        func walk(_ index: Int, _ acc: Slots) {
            guard out.count < limit, acc.count <= length else { return }
            guard index < tokens.count else {
                if acc.count == length { out.append(acc) }
                return
            }
            let token = tokens[index]
            // Repeat the token between min and max times, each time choosing one of its alternatives.
            func repeatToken(_ times: Int, _ acc: Slots) {
                if times >= token.min { walk(index + 1, acc) }
                guard times < token.max, acc.count < length else { return }
                for alternative in token.alternatives where acc.count + alternative.count <= length {
                    repeatToken(times + 1, acc + alternative)
                }
            }
            repeatToken(0, acc)
        }
        walk(0, [])
        return out
    }

    /// Expansions of every template of `region` at `length` (the compiled templates' sets; see `compiled(region:length:)`).
    public static func slots(region: String, length: Int) -> [Slots] {
        compiled(region: region, length: length).map(\.slots)
    }

    /// Every character a template of `regions` can hold (expanded hints such as `us-ca`, `de`): what a reader
    /// may emit when the user named the regions. Cached.
    public static func alphabet(of regions: [String]) -> Set<Character> {
        let key = "alphabet:" + regions.map { $0.lowercased() }.sorted().joined(separator: ",")
        slotCache.lock()
        if let hit = alphabetCache[key] { slotCache.unlock(); return hit }
        slotCache.unlock()
        var all = Set<Character>()
        for region in regions {
            for pattern in patterns[region.lowercased()] ?? [] {
                for token in tokenize(pattern) { for alternative in token.alternatives { for set in alternative { all.formUnion(set) } } }
            }
        }
        slotCache.lock()
        alphabetCache[key] = all
        slotCache.unlock()
        return all
    }

    /// The country a region code belongs to: `us` for `us-ca`, the code itself for a country (`de`, `br`).
    public static func country(of region: String) -> String {
        String(region.lowercased().split(separator: "-").first ?? Substring(region.lowercased()))
    }

    /// The fewest characters to add, drop or change for `text` to fit a template of `region` (0 when it fits), or nil
    /// when that is more than `within`. Only templates whose length is within `within` of the text's are tried.
    public static func distance(_ text: String, region: String, within: Int) -> Int? {
        let chars = Array(text)
        var best: Int?
        for length in max(1, chars.count - within)...(chars.count + within) {
            for template in compiled(region: region, length: length) {
                let d = editDistance(chars, template.slots)
                if d <= within && d < (best ?? .max) { best = d }
                if best == 0 { return 0 }
            }
        }
        return best
    }

    /// Levenshtein distance between a text and a template's slots: a character costs nothing where its slot allows it.
    static func editDistance(_ chars: [Character], _ slots: Slots) -> Int {
        guard !chars.isEmpty else { return slots.count }
        var previous = Array(0...slots.count)
        var current = previous
        for i in 1...chars.count {
            current[0] = i
            for j in stride(from: 1, through: slots.count, by: 1) {
                let change = previous[j - 1] + (slots[j - 1].contains(chars[i - 1]) ? 0 : 1)
                current[j] = min(change, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[slots.count]
    }

    /// The plate lengths (1...12) some template of `regions` has.
    public static func lengths(of regions: [String]) -> Set<Int> {
        Set(compiledLengths.filter { length in regions.contains { !compiled(region: $0, length: length).isEmpty } })
    }

    private struct Token { var alternatives: [Slots]; var min = 1; var max = 1 }

    private static func tokenize(_ pattern: String) -> [Token] {
        let chars = Array(pattern)
        var tokens: [Token] = []
        var i = 0
        func set(_ body: ArraySlice<Character>) -> Set<Character> {
            var result = Set<Character>()
            var j = body.startIndex
            while j < body.endIndex {
                if j + 2 < body.endIndex, body[j + 1] == "-",
                   let lo = body[j].unicodeScalars.first?.value, let hi = body[j + 2].unicodeScalars.first?.value, lo <= hi {
                    for v in lo...hi { if let s = Unicode.Scalar(v) { result.insert(Character(s)) } }
                    j += 3
                } else {
                    result.insert(body[j])
                    j += 1
                }
            }
            return result
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "@": tokens.append(Token(alternatives: [[letters]])); i += 1
            case "#": tokens.append(Token(alternatives: [[digits]])); i += 1
            case "?": tokens.append(Token(alternatives: [[letters.union(digits)]])); i += 1
            case "&": tokens.append(Token(alternatives: [[Set(hangulPlateSyllables)]])); i += 1
            case "*": tokens.append(Token(alternatives: [[Set(chineseProvinces)]])); i += 1
            case "[":
                let end = chars[i...].firstIndex(of: "]") ?? chars.count
                tokens.append(Token(alternatives: [[set(chars[(i + 1)..<end])]]))
                i = end + 1
            case "(":
                let end = chars[i...].firstIndex(of: ")") ?? chars.count
                let words = String(chars[(i + 1)..<end]).split(separator: "|", omittingEmptySubsequences: false)
                tokens.append(Token(alternatives: words.map { $0.map { Set([$0]) } }))
                i = end + 1
            case "{":
                let end = chars[i...].firstIndex(of: "}") ?? chars.count
                let bounds = String(chars[(i + 1)..<end]).split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
                if !tokens.isEmpty, let lo = bounds.first ?? nil {
                    tokens[tokens.count - 1].min = lo
                    tokens[tokens.count - 1].max = bounds.count > 1 ? (bounds[1] ?? lo) : lo
                }
                i = end + 1
            default: tokens.append(Token(alternatives: [[[c]]])); i += 1
            }
        }
        return tokens
    }

    static let slotCache = NSLock()
    nonisolated(unsafe) static var longCache: [LengthKey: [Compiled]] = [:]
    nonisolated(unsafe) private static var alphabetCache: [String: Set<Character>] = [:]
}
