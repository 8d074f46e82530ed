/// Plate text folded for searching: characters that OCR and people confuse on plates map to one symbol,
/// and the neighbours of a folded text one edit away, so a search by plate finds misreads.
///
/// Folding (after `PlateText.canonical`): O, Q, D → 0; I, L → 1; Z → 2; S → 5; G → 6; B → 8. Why these: they
/// are the pairs plate fonts make hard to tell apart (a square O reads as D, a flagged 1 as I, 8 as B) and
/// the pairs OCR models confuse most on the project's dev sets; other letters keep their identity, so a
/// folded search stays selective.
extension PlateText {
    /// The letter → digit map of `folded`.
    public static let foldingMap: [Character: Character] = [
        "O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6", "B": "8",
    ]

    /// The symbols a folded ASCII plate may hold: the digits and the letters that `foldingMap` keeps.
    public static let foldedAlphabet: [Character] = Array("0123456789ACEFHJKMNPRTUVWXY")

    /// `text` canonical, with confusable letters folded to their digit (`"ob-1s"` → `"0815"`).
    public static func folded(_ text: String) -> String {
        String(canonical(text).map { foldingMap[$0] ?? $0 })
    }

    /// Every text one substitution, insertion or deletion away from the folded text `folded` over
    /// `foldedAlphabet`, and `folded` itself: the candidates a one-edit search looks up in an index.
    ///
    /// A 7-character plate has about 450. Characters outside the alphabet (non-Latin plates) stay as
    /// they are and are matched exactly or deleted, but no other such character is substituted in.
    public static func oneEditNeighbours(ofFolded folded: String) -> Set<String> {
        let characters = Array(folded)
        var result: Set<String> = [folded]
        for index in 0...characters.count {
            for symbol in foldedAlphabet {
                var inserted = characters
                inserted.insert(symbol, at: index)
                result.insert(String(inserted))
            }
            guard index < characters.count else { continue }
            var deleted = characters
            deleted.remove(at: index)
            result.insert(String(deleted))
            for symbol in foldedAlphabet where symbol != characters[index] {
                var substituted = characters
                substituted[index] = symbol
                result.insert(String(substituted))
            }
        }
        return result
    }
}
