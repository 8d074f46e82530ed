import Foundation
import PlateCore
@testable import PlateVision
import Testing

private typealias H = DecodeHarness

/// The plate's proportions as a hint-free cue (`PlateShapePrior`): the family probabilities from a quad's aspect, what
/// they do to the template prior, and a hint-free read of the rendered samples with and without them.
@Suite struct PlateShapePriorTests {
    let prior = PlateShapePrior()

    func family(_ aspect: Double) -> String? {
        guard let p = prior.probabilities(aspect: aspect), let i = p.indices.max(by: { p[$0] < p[$1] }), p[i] >= 0.8 else { return nil }
        return prior.families[i].code
    }

    @Test func eachFamilysProportionsSeenFromInFrontOrFromTheSide() throws {
        // Seen square on.
        #expect(family(2.0) == "us")
        #expect(family(400.0 / 130) == "br")
        #expect(family(520.0 / 110) == "eu")
        // 30 degrees off to the side the plate looks cos 30 = 0.87 as wide; seen a little from above (11 degrees), a
        // little wider.
        #expect(family(2.0 * 0.87) == "us")
        #expect(family(400.0 / 130 * 0.87) == "br")
        #expect(family(520.0 / 110 * 0.87) == "eu")
        #expect(family(400.0 / 130 * 1.02) == "br")
        // Between two families' ranges neither is sure; past all of them the shape says nothing.
        let between = try #require(prior.probabilities(aspect: 2.17))
        #expect(between.max()! < 0.8)
        #expect(abs(between.reduce(0, +) - 1) < 1e-9)
        #expect(prior.probabilities(aspect: 1.0) == nil, "a square sign or a two-line plate")
        #expect(prior.probabilities(aspect: 8) == nil)
        #expect(prior.probabilities(aspect: 0) == nil)
    }

    @Test func theAspectIsTheQuadsWhenItIsPlausibleElseTheBoxs() throws {
        // A 300 x 100 plate turned 10 degrees: its box is wider than 3:1 tall, its quad is 3:1.
        let a = 10.0 * Double.pi / 180
        func p(_ x: Double, _ y: Double) -> Point { Point(x: 400 + x * cos(a) - y * sin(a), y: 300 + x * sin(a) + y * cos(a)) }
        let quad = Quad(topLeft: p(-150, -50), topRight: p(150, -50), bottomRight: p(150, 50), bottomLeft: p(-150, 50))
        let box = quad.boundingBox
        let fromQuad = try #require(PlateShapePrior.aspect(box: box, corners: quad))
        #expect(abs(fromQuad - 3) < 1e-6)
        let fromBox = try #require(PlateShapePrior.aspect(box: box, corners: nil))
        #expect(abs(fromBox - box.width / box.height) < 1e-9)
        #expect(abs(fromBox - 3) > 0.5)
        // Corners that do not agree with the box (a quad elsewhere in the picture) are not trusted.
        let elsewhere = quad.offsetBy(dx: 2000, dy: 0)
        #expect(PlateShapePrior.aspect(box: box, corners: elsewhere) == fromBox)
        #expect(PlateShapePrior.aspect(box: BoundingBox(xmin: 5, ymin: 5, xmax: 5, ymax: 9), corners: nil) == nil)
    }

    @Test func aBrazilianShapeMakesTheBrazilianSpellingWin() throws {
        // The reader takes the grey Brazilian "OZK4620" for "0ZK4620" (0 at 0.8, O at 0.18). Every region alike, #@@####
        // (three US states) keeps the 0; a 3:1 plate makes it Brazil's O; a 2:1 plate keeps the 0.
        let chars = [[("0", 0.8), ("O", 0.18)], [("Z", 0.99)], [("K", 0.99)], [("4", 0.99)], [("6", 0.99)], [("2", 0.99)], [("0", 0.99)]]
            .map { CharacterAlternatives($0.map { (character: Character($0.0), probability: Float($0.1)) }) }
        let cands = CandidateCombiner.topN(chars, n: 5).map { PlateCandidate(text: $0.text, score: Double($0.score)) }
        let weights = FamilyWeights(families: prior.families.map(\.code))
        func read(aspect: Double?) -> RegionResolver.Resolution? {
            let w = aspect.flatMap { prior.probabilities(aspect: $0) }.map { weights.regionWeights($0, pool: RegionTemplates.codes) }
            return RegionResolver().resolve(cands, hints: [], strict: false, characters: chars, regionWeights: w).0
        }
        #expect(read(aspect: nil)?.best.text == "0ZK4620")
        let brazilian = try #require(read(aspect: 3.0))
        #expect(brazilian.best.text == "OZK4620")
        #expect(brazilian.region?.code == "br")
        #expect(read(aspect: 2.0)?.best.text == "0ZK4620")
        let w = weights.regionWeights(try #require(prior.probabilities(aspect: 3.0)), pool: RegionTemplates.codes)
        #expect(abs(w.values.reduce(0, +) - 1) < 1e-9)
        #expect(w["br"]! > 0.8)
    }

    /// Hint-free reads of the rendered Brazilian, US and European samples, cropped as uploads (the crop's proportions
    /// are the plate's): with the shape prior a Brazilian read's region is Brazil and a European one's a European
    /// country, and no family's texts are read worse; without it, a Brazilian LLL DDDD text goes to the country with the
    /// most regions that fit it (the US).
    @Test func aHintFreeReadGetsTheRegionItsPlatesShapeSays() async throws {
        let models = H.repositoryRoot.appendingPathComponent("Models").path
        let configuration = try RecognizerConfiguration.bundled(in: models, workers: 1)
        #expect(configuration.look == nil && configuration.shapePrior != nil, "no look model is bundled; the shape prior is on")
        let folder = H.repositoryRoot.appendingPathComponent("Samples/plates")
        let labels = try String(contentsOf: folder.appendingPathComponent("labels.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .compactMap { l -> (name: String, text: String, style: String)? in
                guard let name = l["image"] as? String, let text = l["text"] as? String, let style = l["style"] as? String else { return nil }
                return (name, text, style)
            }
            .filter { ["br_old", "br_mercosul", "us", "eu"].contains($0.style) }
        #expect(labels.count == 16)
        struct Tally: Sendable, CustomStringConvertible {
            var region = 0, exact = 0
            var description: String { "\(region) regions, \(exact) texts right" }
        }
        // Loading and recognizing block: off the cooperative pool.
        let (shaped, plain) = try await H.offPool { () -> ([String: Tally], [String: Tally]) in
            var plainConfiguration = configuration
            plainConfiguration.shapePrior = nil
            let withShape = try ONNXRecognizer(configuration: configuration), without = try ONNXRecognizer(configuration: plainConfiguration)
            var options = RecognitionOptions()
            options.cropped = true
            options.readThreshold = 0
            var shaped: [String: Tally] = [:], plain: [String: Tally] = [:]
            for label in labels {
                let image = try ImageCodec.decode(Data(contentsOf: folder.appendingPathComponent(label.name)))
                let family = String(label.style.split(separator: "_")[0])
                for (recognizer, usesShape) in [(withShape, true), (without, false)] {
                    let plate = try recognizer.recognize(image, options: options).plates.first
                    let code = plate?.region?.code ?? ""
                    let inFamily = family == "eu" ? RegionTemplates.expand("eu").contains(code) : RegionTemplates.country(of: code) == family
                    var t = (usesShape ? shaped : plain)[family] ?? Tally()
                    t.region += inFamily ? 1 : 0
                    t.exact += plate?.text == label.text ? 1 : 0
                    if usesShape { shaped[family] = t } else { plain[family] = t }
                }
            }
            return (shaped, plain)
        }
        print("hint-free (8 br, 4 us, 4 eu samples), with the shape prior / without: \(shaped) / \(plain)")
        let br = shaped["br"] ?? Tally(), plainBR = plain["br"] ?? Tally()
        #expect(br.region >= 6, "Brazilian samples given br: \(br.region) of 8")
        #expect(br.region >= plainBR.region + 4, "the shape gives br to \(br.region), without it \(plainBR.region)")
        for family in ["br", "us", "eu"] {
            let s = shaped[family] ?? Tally(), p = plain[family] ?? Tally()
            #expect(s.region >= p.region, "\(family): regions right \(s.region) against \(p.region) without the shape")
            #expect(s.exact >= p.exact, "\(family): texts right \(s.exact) against \(p.exact) without the shape")
        }
    }
}
