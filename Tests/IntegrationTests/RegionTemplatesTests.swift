import Testing
@testable import PlateCore
@testable import PlateVision

@Suite struct RegionTemplatesTests {
    @Test func knownPlatesMatchTheirRegion() {
        #expect(RegionTemplates.matches("7ABC123", region: "us-ca"))
        #expect(!RegionTemplates.matches("ABC1234", region: "us-ca"))
        #expect(RegionTemplates.matches("ABC1234", region: "br"))
        #expect(RegionTemplates.matches("ABC1D23", region: "br"))
        #expect(!RegionTemplates.matches("ABC1T23", region: "br"))          // Mercosul letters stand for digits: A-J
        #expect(!RegionTemplates.matches("AB1D23", region: "br"))
        #expect(RegionTemplates.matches("AB123CD", region: "it"))
        #expect(RegionTemplates.matches("1234BCD", region: "es"))
        #expect(!RegionTemplates.matches("1234AEI", region: "es"))       // no vowels in Spanish series
        #expect(RegionTemplates.matches("MAB1234", region: "de"))
        #expect(RegionTemplates.matches("123가4567", region: "kr"))
        #expect(RegionTemplates.matches("12가3456", region: "kr"))
        #expect(!RegionTemplates.matches("123A4567", region: "kr"))
        #expect(RegionTemplates.matches("京A12345", region: "cn"))
        #expect(RegionTemplates.matches("粤BD12345", region: "cn"))
        #expect(!RegionTemplates.matches("XA12345", region: "cn"))
    }

    @Test func everyUSStateAndTheEUCountriesAreCovered() {
        let states = ["al", "ak", "az", "ar", "ca", "co", "ct", "de", "fl", "ga", "hi", "id", "il", "in", "ia", "ks", "ky",
                      "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv", "nh", "nj", "nm", "ny", "nc", "nd",
                      "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn", "tx", "ut", "vt", "va", "wa", "wv", "wi", "wy", "dc"]
        for s in states { #expect(RegionTemplates.isKnown("us-\(s)"), "us-\(s)") }
        #expect(RegionTemplates.expand("us").count == 52)
        let eu = ["at", "be", "bg", "hr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "gr", "hu", "ie", "it", "lv", "lt", "lu",
                  "mt", "nl", "pl", "pt", "ro", "sk", "si", "es", "se"]
        for c in eu { #expect(RegionTemplates.isKnown(c), "\(c)") }
        #expect(!RegionTemplates.isKnown("xx"))
        #expect(RegionTemplates.expand("US-CA") == ["us-ca"])
    }

    @Test func matchingRegionsCanBeRestricted() {
        let all = RegionTemplates.matchingRegions("ABC1234")
        #expect(all.contains("br") && all.contains("us-tx"))
        #expect(RegionTemplates.matchingRegions("ABC1234", among: ["br", "it"]) == ["br"])
    }

    @Test func expansionsAgreeWithTheRegularExpressions() {
        // Random texts of every length, biased towards plate-like strings, checked both ways for every region.
        var rng = SystemRandomNumberGenerator()
        let pools = [Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), Array("0123456789"), Array("가나서울부산京粤学")]
        for _ in 0..<400 {
            let length = Int.random(in: 2...9, using: &rng)
            let text = String((0..<length).map { _ in pools[Int.random(in: 0..<(Int.random(in: 0..<10) == 0 ? 3 : 2), using: &rng)].randomElement(using: &rng)! })
            for region in RegionTemplates.codes {
                #expect(RegionTemplates.matches(text, region: region) == RegionTemplates.matchesRegex(text, region: region), "\(text) \(region)")
            }
        }
        for (text, region) in [("AB123CD", "it"), ("MAB1234", "de"), ("서울12가3456", "kr"), ("粤BD12345", "cn"), ("ABC1D23", "br")] {
            #expect(RegionTemplates.matches(text, region: region) && RegionTemplates.matchesRegex(text, region: region))
        }
    }

    @Test func theCompiledTemplatesAnswerAsTheirSetsDo() {
        // The masks built once stand for the sets in every hot path; they must agree everywhere, Hangul and Chinese
        // positions included, and past the table's lengths (expanded on demand).
        let texts = ["ABC1234", "ABC1D23", "7ABC123", "12가3456", "서울12가3456", "粤BD12345", "AB12CDE", "A", "ABCDEFGHIJKLM1"]
        for region in RegionTemplates.codes {
            for length in 1...14 {
                let compiled = RegionTemplates.compiled(region: region, length: length)
                let expanded = (RegionTemplates.patterns[region] ?? []).flatMap { RegionTemplates.expansions(of: $0, length: length) }
                #expect(compiled.map(\.slots) == expanded)
                for template in compiled {
                    #expect(template.combinations == template.slots.reduce(1.0) { $0 * Double($1.count) })
                }
            }
            for text in texts {
                let coded = RegionTemplates.CodedText(text)
                let bySets = RegionTemplates.slots(region: region, length: coded.characters.count).contains { zip($0, coded.characters).allSatisfy { $0.contains($1) } }
                #expect(RegionTemplates.matches(text, region: region) == bySets, "\(text) \(region)")
            }
        }
        #expect(RegionTemplates.slots(region: "BR", length: 7) == RegionTemplates.slots(region: "br", length: 7))
        #expect(RegionTemplates.expand("us") == RegionTemplates.codes.filter { $0.hasPrefix("us-") })
    }

    @Test func expansionsSpellEachPosition() {
        let br = RegionTemplates.expansions(of: "@@@#@##", length: 7)
        #expect(br.count == 1 && br[0][3] == Set("0123456789") && br[0][4].contains("Q"))
        #expect(RegionTemplates.expansions(of: "@{2,3}#{1,3}", length: 4).count == 2)   // LL DD and LLL D
        #expect(RegionTemplates.expansions(of: "@@@####", length: 6).isEmpty)
    }

    private func alternatives(_ spec: [[(Character, Float)]]) -> [CharacterAlternatives] {
        spec.map { CharacterAlternatives($0.map { (character: $0.0, probability: $0.1) }) }
    }

    @Test func aHintedFormatPutsLetterDigitConfusionsRight() throws {
        // The reader sees "0BC1234" (a 0 where Brazil wants a letter) and "ABC12B4" (a B where it wants a digit).
        let chars = alternatives([[("0", 0.9), ("O", 0.08)], [("B", 0.95)], [("C", 0.9)], [("1", 0.9)], [("2", 0.9)],
                                  [("B", 0.7), ("8", 0.25)], [("4", 0.9)]])
        let top = CandidateCombiner.topN(chars, n: 1).map { PlateCandidate(text: $0.text, score: Double($0.score)) }
        #expect(top.first?.text == "0BC12B4")
        let (hinted, _) = RegionResolver().resolve(top, hints: ["br"], strict: false, characters: chars)
        #expect(hinted?.best.text == "OBC1284")
        #expect(hinted?.matchesTemplate == true)
        #expect(hinted?.region?.code == "br")
        // Its score given the format: O at 0.08 of the 0.1 the first place leaves to letters, 8 at 0.25 of the 0.3 the
        // sixth leaves to digits; the characters the format does not question keep their probabilities.
        let format = try #require(hinted?.formatScore)
        #expect(abs(format - 0.8 * 0.95 * 0.9 * 0.9 * 0.9 * (0.25 / 0.3) * 0.9) < 1e-4)
        #expect(format > (hinted?.best.score ?? 1))
        // Without hints the format is not known: no such score.
        #expect(RegionResolver().resolve(top, hints: [], strict: false, characters: chars).0?.formatScore == nil)
        // Strict mode without the characters has nothing that fits, so the read is dropped.
        let (strict, verdict) = RegionResolver().resolve(top, hints: ["br"], strict: true)
        #expect(strict == nil)
        if case .accepted = verdict { Issue.record("expected a rejection") }
    }

    @Test func theTemplatePriorFavoursTheNarrowerFormat() {
        // "RK896A0" fits only catch-all formats (Polish, Slovenian); "RK896AO" fits LL DDD LL (Slovakia, Italy, France).
        let chars = alternatives([[("R", 0.99)], [("K", 0.99)], [("8", 0.99)], [("9", 0.99)], [("6", 0.99)], [("A", 0.99)],
                                  [("0", 0.6), ("O", 0.4)]])
        let cands = CandidateCombiner.topN(chars, n: 5).map { PlateCandidate(text: $0.text, score: Double($0.score)) }
        let (r, _) = RegionResolver().resolve(cands, hints: ["eu"], strict: false, characters: chars)
        #expect(r?.best.text == "RK896AO")
        // A confident read is not overruled by the prior.
        let sure = alternatives([[("R", 0.99)], [("K", 0.99)], [("8", 0.99)], [("9", 0.99)], [("6", 0.99)], [("A", 0.99)],
                                 [("0", 0.9999), ("O", 0.0001)]])
        let sureCands = CandidateCombiner.topN(sure, n: 5).map { PlateCandidate(text: $0.text, score: Double($0.score)) }
        let (s, _) = RegionResolver().resolve(sureCands, hints: ["eu"], strict: false, characters: sure)
        #expect(s?.best.text == "RK896A0")
    }

    @Test func theBlueBandDecidesBrazilsFifthCharacter() {
        // "ABC1I23" (Mercosul: a letter A-J fifth) or "ABC1123" (grey plate: a digit): the reader leans to I.
        let chars = alternatives([[("A", 0.99)], [("B", 0.99)], [("C", 0.99)], [("1", 0.99)], [("I", 0.7), ("1", 0.3)],
                                  [("2", 0.99)], [("3", 0.99)]])
        let cands = CandidateCombiner.topN(chars, n: 5).map { PlateCandidate(text: $0.text, score: Double($0.score)) }
        func best(_ band: Bool?) -> String? {
            RegionResolver().resolve(cands, hints: ["br"], strict: false, characters: chars, topBlueBand: band).0?.best.text
        }
        #expect(best(nil) == "ABC1I23")
        #expect(best(true) == "ABC1I23")
        #expect(best(false) == "ABC1123")
        // Without hints too: Brazil's templates are in the pool of every region.
        #expect(RegionResolver().resolve(cands, hints: [], strict: false, characters: chars, topBlueBand: false).0?.best.text == "ABC1123")
        // A sure read is not overruled by the plate's look.
        let sure = alternatives([[("A", 0.99)], [("B", 0.99)], [("C", 0.99)], [("1", 0.99)], [("I", 0.9999), ("1", 0.0001)],
                                 [("2", 0.99)], [("3", 0.99)]])
        let sureCands = CandidateCombiner.topN(sure, n: 5).map { PlateCandidate(text: $0.text, score: Double($0.score)) }
        #expect(RegionResolver().resolve(sureCands, hints: ["br"], strict: false, characters: sure, topBlueBand: false).0?.best.text == "ABC1I23")
    }

    @Test func withoutHintsThePlatesLookWeighsTheRegions() {
        // A grey Brazilian "OZK4620" that the reader takes for "0ZK4620" (0 at 0.8, O at 0.18): without hints the even
        // prior over every region keeps the 0, since #@@#### is a narrow format of three US states; a look that says
        // Brazil makes the O win, as the hint "br" does.
        let chars = alternatives([[("0", 0.8), ("O", 0.18)], [("Z", 0.99)], [("K", 0.99)], [("4", 0.99)], [("6", 0.99)],
                                  [("2", 0.99)], [("0", 0.99)]])
        let cands = CandidateCombiner.topN(chars, n: 5).map { PlateCandidate(text: $0.text, score: Double($0.score)) }
        #expect(RegionResolver().resolve(cands, hints: [], strict: false, characters: chars).0?.best.text == "0ZK4620")
        #expect(RegionResolver().resolve(cands, hints: ["br"], strict: false, characters: chars).0?.best.text == "OZK4620")
        let pool = RegionTemplates.codes
        let brazil = pool.reduce(into: [String: Double]()) { $0[$1] = $1 == "br" ? 0.9 : 0.1 / Double(pool.count - 1) }
        let (looked, _) = RegionResolver().resolve(cands, hints: [], strict: false, characters: chars, regionWeights: brazil)
        #expect(looked?.best.text == "OZK4620")
        #expect(looked?.region?.code == "br")
        // A look that says US keeps the 0; hints override the look.
        let states = Double(pool.filter { $0.hasPrefix("us-") }.count)
        let us = pool.reduce(into: [String: Double]()) { $0[$1] = $1.hasPrefix("us-") ? 0.9 / states : 0.1 / (Double(pool.count) - states) }
        #expect(RegionResolver().resolve(cands, hints: [], strict: false, characters: chars, regionWeights: us).0?.best.text == "0ZK4620")
        #expect(RegionResolver().resolve(cands, hints: ["br"], strict: false, characters: chars, regionWeights: us).0?.best.text == "OZK4620")
    }

    @Test func aReadTooLongForTheHintedFormatLosesItsSpuriousCharacter() {
        // "OKL081I7": eight characters where Brazil has seven; the weak "I" goes.
        let chars = alternatives([[("O", 0.9)], [("K", 0.95)], [("L", 0.95)], [("0", 0.9)], [("8", 0.95)], [("1", 0.9)],
                                  [("I", 0.4), ("1", 0.3)], [("7", 0.95)]])
        let cands = CandidateCombiner.topN(chars, n: 5).map { PlateCandidate(text: $0.text, score: Double($0.score)) }
        let (r, _) = RegionResolver().resolve(cands, hints: ["br"], strict: false, characters: chars)
        #expect(r?.best.text == "OKL0817")
        // Without hints no character is dropped: eight characters fit some format somewhere.
        let (free, _) = RegionResolver().resolve(cands, hints: [], strict: false, characters: chars)
        #expect(free?.best.text.count == 8)
    }

    private func resolve(_ text: String, hints: [String]) -> RegionGuess? {
        RegionResolver().resolve([PlateCandidate(text: text, score: 0.9)], hints: hints, strict: false).0?.region
    }

    @Test func aReadThatFitsNoTemplateStillGetsARegion() throws {
        // "7ABC1234": eight characters, one more than California's 7ABC123; no state has this format.
        #expect(RegionTemplates.matchingRegions("7ABC1234", among: RegionTemplates.expand("us")).isEmpty)
        let hinted = try #require(resolve("7ABC1234", hints: ["us-ca"]))
        #expect(hinted.code == "us", "the hint's country: no state template fits")
        #expect(hinted.score > 0 && hinted.score <= 0.3)
        // The same read with a template that fits is surer.
        let fits = try #require(resolve("7ABC123", hints: ["us-ca"]))
        #expect(fits.code == "us-ca" && fits.score > hinted.score)
        // Without hints: the country whose templates come nearest, less sure than with hints.
        let free = try #require(resolve("7ABC1234", hints: []))
        #expect(!free.code.isEmpty && free.score > 0 && free.score < hinted.score)
        // Far from every template (ten characters): still a country, with the lowest score.
        let far = try #require(resolve("A1B2C3D4E5", hints: ["de"]))
        #expect(far.code == "de" && far.score <= 0.1)
        let farFree = try #require(resolve("A1B2C3D4E5", hints: []))
        #expect(!farFree.code.isEmpty && farFree.score <= 0.05)
        // The plate's characters decide Korea and China outright.
        #expect(resolve("123가4567", hints: ["us"])?.code == "kr")
    }

    @Test func theTemplatePriorPicksTheRegionAndItsShareSaysHowSure() throws {
        // "AB123CD" fits LL DDD LL in Italy, France, Slovakia, Austria, ... alike, and Poland's or Slovenia's catch-all
        // formats far less: a share of about a fifth, so a hinted score of about 0.6, well under a single region's 0.9.
        let matching = RegionTemplates.matchingRegions("AB123CD", among: RegionTemplates.expand("eu"))
        #expect(Set(["at", "fr", "it", "sk", "pl"]).isSubset(of: matching))
        let eu = try #require(resolve("AB123CD", hints: ["eu"]))
        #expect(["at", "fr", "it", "sk"].contains(eu.code), "a narrow format wins over a catch-all: \(eu.code)")
        #expect(eu.score > 0.5 + 0.5 / Double(matching.count) && eu.score <= 0.625)
        // Only Brazil's grey format fits "ABC1234" among these hints: as sure as a hinted region gets.
        #expect(resolve("ABC1234", hints: ["br", "it"]) == RegionGuess(code: "br", score: 0.9))
        // With Germany too (whose catch-all fits it), the share halves.
        #expect(resolve("ABC1234", hints: ["br", "de"])?.score == 0.75)
        // The narrowest template wins among the states: a free-form read is never pinned on the first state alphabetically.
        let us = try #require(resolve("ABC1234", hints: ["us"]))
        #expect(us.code.hasPrefix("us-") && us.score > 0.5)
        // Without hints LLL DDDD fits Brazil, Austria's and Germany's catch-alls and twenty states equally: a state's.
        let free = try #require(resolve("ABC1234", hints: []))
        #expect(free.code.hasPrefix("us-") && free.score < 0.1, "\(free)")
    }

    @Test func theDistanceToATemplateCountsAddedDroppedAndChangedCharacters() {
        #expect(RegionTemplates.distance("ABC1234", region: "br", within: 2) == 0)
        #expect(RegionTemplates.distance("ABC12345", region: "br", within: 2) == 1)
        #expect(RegionTemplates.distance("AB1234", region: "br", within: 2) == 1)
        #expect(RegionTemplates.distance("ABCD234", region: "br", within: 2) == 1)
        #expect(RegionTemplates.distance("A1B2C3D4E5", region: "br", within: 2) == nil)
        #expect(RegionTemplates.country(of: "us-ca") == "us" && RegionTemplates.country(of: "de") == "de")
    }
}
