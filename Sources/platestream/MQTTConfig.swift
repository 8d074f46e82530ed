import Foundation
import PlateCore
import PlateMQTT

/// The `mqtt` object of a camera's settings (or of `defaults`), as written in config.json.
struct MQTTSection: Decodable, Equatable {
    var url: String
    var topicPrefix: String?
    var qos: Int?
    var retainState: Bool?
    var clientID: String?
    var caFile: String?
    var certFile: String?
    var keyFile: String?
    var homeAssistantDiscovery: Bool?
    var discoveryPrefix: String?

    enum CodingKeys: String, CodingKey {
        case url, qos
        case topicPrefix = "topic_prefix", retainState = "retain_state", clientID = "client_id", caFile = "ca_file"
        case certFile = "cert_file", keyFile = "key_file", homeAssistantDiscovery = "homeassistant_discovery"
        case discoveryPrefix = "discovery_prefix"
    }

    /// The PlateMQTT settings; relative TLS file paths are resolved with `resolve` (against the config's folder).
    func settings(resolve: (String) -> String = { $0 }) throws -> MQTTSettings {
        let defaults = MQTTSettings(broker: try MQTTBrokerURL(parsing: url))
        return MQTTSettings(
            broker: defaults.broker, topicPrefix: topicPrefix ?? defaults.topicPrefix, qos: qos ?? defaults.qos,
            retainState: retainState ?? defaults.retainState, clientID: clientID ?? defaults.clientID,
            caFile: caFile.map(resolve), certFile: certFile.map(resolve), keyFile: keyFile.map(resolve),
            homeAssistantDiscovery: homeAssistantDiscovery ?? defaults.homeAssistantDiscovery,
            discoveryPrefix: discoveryPrefix ?? defaults.discoveryPrefix)
    }

    /// What is wrong with the section, found without touching the file system (which `run` checks, with
    /// paths resolved): the URL (never echoing its password), topic prefixes, TLS key pairs. Each message
    /// starts with the key it is about.
    func problems() -> [String] {
        let settings: MQTTSettings
        do {
            settings = try self.settings()
        } catch {
            return ["url: \(error)"]
        }
        var problems: [String] = []
        for (key, prefix) in [("topic_prefix", settings.topicPrefix), ("discovery_prefix", settings.discoveryPrefix)] {
            do { try MQTTTopics.checkPrefix(prefix, key: key) } catch { problems.append("\(key): \(error)") }
        }
        if !settings.broker.usesTLS, caFile != nil || certFile != nil || keyFile != nil {
            problems.append("url: ca_file, cert_file and key_file need an mqtts:// URL")
        }
        if (certFile == nil) != (keyFile == nil) { problems.append("cert_file: cert_file and key_file go together") }
        return problems
    }
}
