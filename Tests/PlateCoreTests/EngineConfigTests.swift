import Testing
@testable import PlateCore

@Suite struct EngineConfigTests {
    @Test func parsesEveryDocumentedKey() throws {
        let c = try EngineConfig.parse(#"{"region":"strict","threshold_d":0.3,"threshold_o":0.5,"mode":"fast","detection_rule":"strict"}"#)
        let o = c.apply(to: RecognitionOptions())
        #expect(o.regionStrict && o.detectionRuleStrict && o.mode == .fast)
        #expect(o.detectionThreshold == 0.3 && o.readThreshold == 0.5)
        #expect(try EngineConfig.parse(nil) == EngineConfig())
        #expect(try EngineConfig.parse(#"{"mode":"redaction"}"#).mode == .redaction)
        #expect(try EngineConfig.parse(#"{"threshold_o":0,"threshold_d":1}"#).thresholdO == 0)
    }

    @Test func refusesBadValuesNamingTheKey() {
        for (text, needle) in [(#"{"mode":"slow"}"#, "config.mode"), (#"{"threshold_d":2}"#, "threshold_d"),
                               (#"{"threshold_o":"high"}"#, "threshold_o"), (#"{"region":"loose"}"#, "config.region"),
                               (#"{"colour":1}"#, "unknown config key \"colour\""), ("[1,2]", "not a JSON object"),
                               ("{bad json", "not a JSON object"), (#"{"threshold_d":true}"#, "threshold_d")] {
            do {
                _ = try EngineConfig.parse(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect("\(error)".contains(needle), "\(text): \(error)")
            }
        }
    }
}
