import PlateCore
import Testing

@Suite struct PlateFoldingTests {
    @Test("confusable letters fold to their digit; other letters stay")
    func folding() {
        #expect(PlateText.folded("ob-1s") == "0815")
        #expect(PlateText.folded("QDIL ZSGB") == "00112568")
        #expect(PlateText.folded("ACEK 123") == "ACEK123")
    }

    @Test("the one-edit neighbours hold every substitution, insertion and deletion, and nothing two edits away")
    func neighbours() {
        let folded = PlateText.folded("AB12")
        let neighbours = PlateText.oneEditNeighbours(ofFolded: folded)
        #expect(folded == "A812")
        #expect(neighbours.contains("A812"))
        #expect(neighbours.contains("A8X2"))          // substitution
        #expect(neighbours.contains("A8129"))         // insertion at the end
        #expect(neighbours.contains("7A812"))         // insertion at the start
        #expect(neighbours.contains("A82"))           // deletion
        #expect(!neighbours.contains("A8XY"))         // two substitutions
        #expect(neighbours.allSatisfy { PlateText.editDistance($0, folded) <= 1 })
        let alphabet = PlateText.foldedAlphabet.count
        // n deletions (some equal), n * (alphabet - 1) substitutions, (n + 1) * alphabet insertions (some equal).
        #expect(neighbours.count > 4 * (alphabet - 1) && neighbours.count <= 1 + 4 + 4 * (alphabet - 1) + 5 * alphabet)
    }
}
