import Testing
@testable import PlateVision

@Suite struct RegionTemplatesTests {
    @Test func knownPlatesMatchTheirRegion() {
        #expect(RegionTemplates.matches("7ABC123", region: "us-ca"))
        #expect(!RegionTemplates.matches("ABC1234", region: "us-ca"))
        #expect(RegionTemplates.matches("ABC1234", region: "br"))
        #expect(RegionTemplates.matches("ABC1D23", region: "br"))
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
}
