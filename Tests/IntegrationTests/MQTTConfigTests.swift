import Foundation
import PlateCore
import PlateMQTT
import Testing
@testable import platestream

/// The `mqtt` key of config.json: schema, semantic checks, defaults and per-camera override.
extension ConfigTests {
    @Test func aCameraObjectReplacesTheDefaultsAndUnsetKeysTakeTheDocumentedDefaults() throws {
        let config = try parse("""
        {"defaults": {"mqtt": {"url": "mqtt://ha:secret@broker.lan", "topic_prefix": "site/lpr", "homeassistant_discovery": true}},
         "cameras": [{"id": "a", "url": "a.mp4"},
                     {"id": "b", "url": "b.mp4", "mqtt": {"url": "mqtts://other:8884", "qos": 0, "retain_state": false}}]}
        """)
        let cameras = config.resolvedCameras
        let a = try #require(cameras[0].settings.mqtt).settings()
        #expect(a.broker.host == "broker.lan" && a.broker.port == 1883 && a.broker.username == "ha" && a.broker.password == "secret")
        #expect(a.topicPrefix == "site/lpr" && a.homeAssistantDiscovery && a.qos == 1 && a.retainState)
        #expect(a.clientID == "platestream" && a.discoveryPrefix == "homeassistant")
        let b = try #require(cameras[1].settings.mqtt).settings()
        #expect(b.broker.usesTLS && b.broker.port == 8884 && b.broker.username == nil)
        #expect(b.qos == 0 && !b.retainState && b.topicPrefix == "platestream" && !b.homeAssistantDiscovery)
    }

    @Test func relativeTLSFilesAreResolved() throws {
        let section = MQTTSection(url: "mqtts://broker", caFile: "certs/ca.pem")
        #expect(try section.settings(resolve: { "/etc/platestream/" + $0 }).caFile == "/etc/platestream/certs/ca.pem")
    }

    @Test func mistakesAreReportedWithTheirPathAndNeverThePassword() {
        let text = problems("""
        {"cameras": [{"id": "a", "url": "a.mp4", "mqtt": {"url": "mqtt://b", "topic_prefix": "lpr/#"}},
                     {"id": "b", "url": "b.mp4", "mqtt": {"url": "mqtt://b", "qos": 3, "colour": 1}},
                     {"id": "c", "url": "c.mp4", "mqtt": {"url": "mqtt://b", "ca_file": "ca.pem"}},
                     {"id": "d", "url": "d.mp4", "mqtt": {"url": "mqtts://b", "cert_file": "c.pem"}},
                     {"id": "e", "url": "e.mp4", "mqtt": {"topic_prefix": "x"}}]}
        """)
        #expect(text.contains("$.cameras[1].mqtt.qos: expected one of"), "\(text)")
        #expect(text.contains("$.cameras[1].mqtt.colour: unknown key"), "\(text)")
        #expect(text.contains("$.cameras[4].mqtt: missing required key \"url\""), "\(text)")
        let scheme = problems(#"{"defaults": {"mqtt": {"url": "http://ha:hunter2@broker"}}}"#)
        #expect(scheme.contains("$.defaults.mqtt.url: broker URL scheme must be mqtt:// or mqtts://"), "\(scheme)")
        #expect(!scheme.contains("hunter2"), "\(scheme)")
    }

    @Test func semanticMistakesAfterTheSchema() {
        #expect(problems(#"{"defaults": {"mqtt": {"url": "mqtt://"}}}"#).contains("$.defaults.mqtt.url: broker URL has no host"))
        #expect(problems(#"{"cameras": [{"id": "a", "url": "a.mp4", "mqtt": {"url": "mqtt://b", "topic_prefix": "lpr/#"}}]}"#)
            .contains("$.cameras[0].mqtt.topic_prefix"))
        #expect(problems(#"{"cameras": [{"id": "a", "url": "a.mp4", "mqtt": {"url": "mqtt://b", "ca_file": "ca.pem"}}]}"#)
            .contains("need an mqtts:// URL"))
        #expect(problems(#"{"cameras": [{"id": "a", "url": "a.mp4", "mqtt": {"url": "mqtts://b", "cert_file": "c.pem"}}]}"#)
            .contains("cert_file and key_file go together"))
        #expect(problems(#"{"defaults": {"mqtt": {"url": "mqtts://user:pw@b:8883", "homeassistant_discovery": true}}}"#).isEmpty)
    }
}
