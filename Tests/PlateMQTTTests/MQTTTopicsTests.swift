import Foundation
import PlateCore
import PlateMQTT
import Testing

@Suite struct MQTTTopicsTests {
    static let settings = MQTTSettings(broker: try! MQTTBrokerURL(parsing: "mqtt://broker"), topicPrefix: "site/lpr",
                                       homeAssistantDiscovery: true)

    static func event(plate: String?, camera: CameraID = "gate") -> TrackEvent {
        let box = BoundingBox(xmin: 10, ymin: 10, xmax: 60, ymax: 30)
        let consensus = plate.map { text in
            let read = PlateRead(text: text, score: 0.9066, candidates: [PlateCandidate(text: text, score: 0.9066)],
                                 region: RegionGuess(code: "fr", score: 0.8), detectionScore: 0.9, box: box)
            return PlateConsensus(text: text, score: 0.9066, candidates: read.candidates, region: read.region, readCount: 3,
                                  bestRead: read)
        }
        return TrackEvent(trackID: TrackID(7), cameraID: camera, plate: consensus,
                          vehicle: VehicleDetection(type: .car, score: 0.7, box: box, color: [], makeModel: [], orientation: []),
                          direction: 90, bestFrameIndex: 12, bestFrameTime: MediaTime(seconds: 1),
                          timestamp: Date(timeIntervalSince1970: 1_700_000_000.25), imageSize: ImageSize(width: 640, height: 480),
                          firstSeen: MediaTime(seconds: 0.5), lastSeen: MediaTime(seconds: 1.5), frameCount: 4,
                          reason: .trackEnded, sourceURL: "rtsp://cam/stream")
    }

    @Test func topicsOfACamera() {
        let topics = MQTTTopics(settings: Self.settings, camera: "gate.north")
        #expect(topics.eventTopic == "site/lpr/gate.north/event")
        #expect(topics.lastPlateTopic == "site/lpr/gate.north/last_plate")
        #expect(topics.statusTopic == "site/lpr/gate.north/status")
        #expect(topics.discoveryTopic == "homeassistant/sensor/platestream_gate_north/last_plate/config")
    }

    @Test func aCameraIdIsOneTopicLevelWithoutWildcards() {
        let topics = MQTTTopics(settings: Self.settings, camera: "a/b+c#")
        #expect(topics.cameraLevel == "a_b_c_")
        #expect(topics.eventTopic == "site/lpr/a_b_c_/event")
        #expect(topics.homeAssistantID == "platestream_a_b_c_")
    }

    @Test func anEventGivesTheEventThenTheRetainedLastPlate() throws {
        let topics = MQTTTopics(settings: Self.settings, camera: "gate")
        let json: JSONValue = .object([("camera_id", .string("gate"))])
        let messages = topics.messages(for: Self.event(plate: "AB123CD"), eventJSON: json)
        #expect(messages.count == 2)
        #expect(messages[0] == OutboundMessage(topic: "site/lpr/gate/event", payload: json.serialized(), qos: 1, retain: false))
        #expect(messages[1].topic == "site/lpr/gate/last_plate")
        #expect(messages[1].retain)
        let state = try #require(try JSONSerialization.jsonObject(with: Data(messages[1].payload.utf8)) as? [String: Any])
        #expect(state["plate"] as? String == "AB123CD")
        #expect(state["score"] as? Double == 0.907)
        #expect(state["region"] as? String == "fr")
        #expect(state["vehicle_type"] as? String == "car")
        #expect(state["direction"] as? Int == 90)
        #expect(state["camera_id"] as? String == "gate")
        #expect(state["timestamp"] as? String == "2023-11-14T22:13:20.250Z")
    }

    @Test func retainStateFalseAndQoSAreHonoured() {
        var settings = Self.settings
        settings.retainState = false
        settings.qos = 0
        let messages = MQTTTopics(settings: settings, camera: "gate").messages(for: Self.event(plate: "X1"), eventJSON: .null)
        #expect(messages.map(\.retain) == [false, false])
        #expect(messages.map(\.qos) == [0, 0])
    }

    @Test func aVehicleWithoutAPlateLeavesTheLastPlateAlone() {
        let messages = MQTTTopics(settings: Self.settings, camera: "gate").messages(for: Self.event(plate: nil), eventJSON: .null)
        #expect(messages.map(\.topic) == ["site/lpr/gate/event"])
    }

    @Test func homeAssistantDiscoveryConfig() throws {
        let topics = MQTTTopics(settings: Self.settings, camera: "gate", cameraName: "Main gate")
        let config = try #require(try JSONSerialization.jsonObject(with: Data(topics.discoveryConfig.serialized().utf8)) as? [String: Any])
        #expect(config["name"] as? String == "Last plate")
        #expect(config["unique_id"] as? String == "platestream_gate_last_plate")
        #expect(config["state_topic"] as? String == "site/lpr/gate/last_plate")
        #expect(config["json_attributes_topic"] as? String == "site/lpr/gate/last_plate")
        #expect(config["value_template"] as? String == "{{ value_json.plate }}")
        #expect(config["availability_topic"] as? String == "site/lpr/gate/status")
        #expect(config["payload_available"] as? String == "online")
        #expect(config["payload_not_available"] as? String == "offline")
        let device = try #require(config["device"] as? [String: Any])
        #expect(device["identifiers"] as? [String] == ["platestream_gate"])
        #expect(device["name"] as? String == "Main gate")
    }

    @Test func connectMessagesAreOnlineThenDiscoveryBothRetained() {
        let topics = MQTTTopics(settings: Self.settings, camera: "gate")
        #expect(topics.connectMessages.map(\.topic) == ["site/lpr/gate/status", topics.discoveryTopic])
        #expect(topics.connectMessages.allSatisfy { $0.retain })
        #expect(topics.connectMessages[0].payload == "online")
        var off = Self.settings
        off.homeAssistantDiscovery = false
        #expect(MQTTTopics(settings: off, camera: "gate").connectMessages.map(\.topic) == ["site/lpr/gate/status"])
    }

    @Test func theRouterSendsEachCameraToItsTopicsAndIgnoresOthers() {
        let router = MQTTEventRouter(topics: [MQTTTopics(settings: Self.settings, camera: "gate")])
        #expect(router.messages(for: Self.event(plate: "X1", camera: "gate"), eventJSON: .null).count == 2)
        #expect(router.messages(for: Self.event(plate: "X1", camera: "other"), eventJSON: .null).isEmpty)
    }
}
