import Foundation
import PlateCore
import PlateMQTT
import Testing

@Suite struct MQTTBrokerURLTests {
    @Test func parsesHostPortAndDecodedCredentials() throws {
        let url = try MQTTBrokerURL(parsing: "mqtt://cam%40site:p%40ss:word@broker.lan:1884")
        #expect(url.host == "broker.lan")
        #expect(url.port == 1884)
        #expect(!url.usesTLS)
        #expect(url.username == "cam@site")
        #expect(url.password == "p@ss:word")
    }

    @Test func defaultPortsFollowTheScheme() throws {
        #expect(try MQTTBrokerURL(parsing: "mqtt://127.0.0.1").port == 1883)
        let tls = try MQTTBrokerURL(parsing: "mqtts://broker.example")
        #expect(tls.port == 8883)
        #expect(tls.usesTLS)
        #expect(tls.username == nil && tls.password == nil)
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let url = try MQTTBrokerURL(parsing: "mqtts://ha:hunter2@broker:8883")
        #expect(url.description == "mqtts://ha:***@broker:8883")
        #expect(try MQTTBrokerURL(parsing: "mqtt://ha@broker").description == "mqtt://ha@broker:1883")
    }

    @Test(arguments: [
        ("http://user:hunter2@broker:1883", "scheme"),
        ("mqtt://", "no host"),
        ("mqtt://:hunter2@broker", "no user name"),
        ("mqtt://user:hunter2@broker:1883/topic", "path"),
        ("mqtt://broker:70000", "port out of range"),
    ])
    func refusesWhatIsNotABrokerURLWithoutEchoingThePassword(text: String, expected: String) {
        do {
            _ = try MQTTBrokerURL(parsing: text)
            Issue.record("accepted \(text)")
        } catch let error as MQTTError {
            #expect(error.isInvalidConfiguration)
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(!error.message.contains("hunter2"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite struct MQTTSettingsTests {
    static let broker = try! MQTTBrokerURL(parsing: "mqtt://127.0.0.1:1883")

    @Test func theDefaultsAreValid() throws {
        let settings = MQTTSettings(broker: Self.broker)
        try settings.validate()
        #expect(settings.qos == 1)
        #expect(settings.retainState)
        #expect(settings.topicPrefix == "platestream")
        #expect(settings.discoveryPrefix == "homeassistant")
    }

    @Test func refusesBadValuesNamingTheKey() throws {
        let tls = try MQTTBrokerURL(parsing: "mqtts://broker")
        let readable = #filePath
        let cases: [(MQTTSettings, String)] = [
            (MQTTSettings(broker: Self.broker, qos: 3), "qos"),
            (MQTTSettings(broker: Self.broker, topicPrefix: "a/+/b"), "topic_prefix"),
            (MQTTSettings(broker: Self.broker, topicPrefix: "/a"), "topic_prefix"),
            (MQTTSettings(broker: Self.broker, homeAssistantDiscovery: true, discoveryPrefix: "ha/#"), "discovery_prefix"),
            (MQTTSettings(broker: Self.broker, caFile: readable), "mqtts"),
            (MQTTSettings(broker: tls, caFile: "/nonexistent/ca.pem"), "ca_file"),
            (MQTTSettings(broker: tls, certFile: readable), "cert_file and key_file"),
            (MQTTSettings(broker: Self.broker, clientID: ""), "client_id"),
        ]
        for (settings, key) in cases {
            do {
                try settings.validate()
                Issue.record("accepted \(settings)")
            } catch let error as MQTTError {
                #expect(error.isInvalidConfiguration)
                #expect(error.message.contains(key), "\(error.message)")
            }
        }
    }

    @Test func tlsFilesThatExistAreAccepted() throws {
        let tls = try MQTTBrokerURL(parsing: "mqtts://broker")
        try MQTTSettings(broker: tls, caFile: #filePath, certFile: #filePath, keyFile: #filePath).validate()
    }
}

@Suite struct MQTTReconnectBackoffTests {
    @Test func doublesUpToTheCapAndStartsOverOnceConnected() {
        var backoff = MQTTReconnectBackoff(minimum: .seconds(1), maximum: .seconds(10))
        #expect((1...6).map { _ in backoff.failed() } == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
        #expect(backoff.failures == 6)
        backoff.connected()
        #expect(backoff.failed() == .seconds(1))
    }

    @Test func aMaximumBelowTheMinimumIsRaisedToIt() {
        var backoff = MQTTReconnectBackoff(minimum: .seconds(5), maximum: .seconds(1))
        #expect(backoff.failed() == .seconds(5))
        #expect(backoff.failed() == .seconds(5))
    }
}
