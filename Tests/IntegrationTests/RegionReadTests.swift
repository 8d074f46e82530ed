import Foundation
import PlateVision
import Testing

private typealias H = DecodeHarness

/// Every read names a region, also one that fits no template of the hinted regions: the bundled reader on European and
/// Brazilian crops from Samples/plates, hinted `us`, through `platestream read` (Plate Recognizer's JSON).
@Suite(.serialized) struct RegionReadTests {
    @Test func aReadThatFitsNoHintedTemplateGetsTheHintsCountryWithALowScore() async throws {
        let dir = H.repositoryRoot.appendingPathComponent("Samples/plates")
        let paths = ["eu", "br_mercosul", "br_old"].flatMap { s in (0..<4).map { dir.appendingPathComponent("\(s)_0\($0).jpg").path } }
        let binary = try H.platestreamBinary()
        let r = try await H.offPool {
            try H.runProcess(binary, ["read"] + paths + ["--cropped", "--regions", "us", "--models",
                                                          H.repositoryRoot.appendingPathComponent("Models").path,
                                                          "--config", #"{"threshold_o":0}"#])
        }
        #expect(r.status == 0, "\(r.stderr.suffix(1000))")
        let states = RegionTemplates.expand("us")
        var reads = 0, unfit = 0
        for line in r.stdout.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for result in object["results"] as? [[String: Any]] ?? [] {
                reads += 1
                let plate = try #require(result["plate"] as? String).uppercased()
                let region = try #require(result["region"] as? [String: Any], "\(plate): region is \(String(describing: result["region"]))")
                let code = try #require(region["code"] as? String)
                let score = try #require(region["score"] as? Double)
                #expect((0...1).contains(score))
                if RegionTemplates.matchingRegions(plate, among: states).isEmpty {
                    unfit += 1
                    #expect(code == "us" && score > 0 && score <= 0.3, "\(plate): \(code) \(score)")
                } else {
                    #expect(code.hasPrefix("us-") && score > 0.5, "\(plate): \(code) \(score)")
                }
            }
        }
        #expect(reads >= 10)
        #expect(unfit >= 3, "European and Mercosul texts fit no US state's format")
    }
}
