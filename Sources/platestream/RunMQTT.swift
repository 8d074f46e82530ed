import Foundation
import Logging
import PlateCore
import PlateMQTT
import PlateSinks
import ServiceLifecycle

/// One MQTT output of `run --config`: PlateSinks' durable `MessageOutbox` (routing with PlateMQTT's topics)
/// and one PlateMQTT connection per camera, which the outbox delivers through. The two adapters never see
/// each other: they meet here, through PlateCore's `MessagePublisher` and `EventMessageRouter`.
struct MQTTOutput {
    /// The outbox the pipeline writes to.
    var outbox: MessageOutbox
    /// One connection per camera, keyed by the camera id (the outbox's channel).
    var connections: [String: MQTTConnection]
    /// The cameras of this output.
    var cameras: [CameraConfig]

    /// The MQTT outputs of the cameras that have an `mqtt` setting: one per JSON version in use (usually
    /// just Version 2), each with its outbox file next to the database (`<database>-mqtt`, `-mqtt-v1`).
    static func plan(_ cameras: [CameraConfig], database: String, configPath: String, resolve: (String) -> String,
                     format: (Int, [CameraConfig]) throws -> EventJSONFormat) throws -> [MQTTOutput] {
        var byVersion: [Int: [(CameraConfig, MQTTTopics)]] = [:]
        for camera in cameras {
            guard let section = camera.settings.mqtt else { continue }
            do {
                let settings = try section.settings(resolve: resolve)
                try settings.validate()
                let topics = MQTTTopics(settings: settings, camera: CameraID(camera.id), cameraName: camera.name)
                byVersion[camera.settings.version ?? 2, default: []].append((camera, topics))
            } catch {
                throw ConfigError("\(configPath): mqtt of camera \(camera.id): \(error)")
            }
        }
        return try byVersion.keys.sorted(by: >).map { version in
            let group = byVersion[version]!
            let path = database + "-mqtt" + (version == 2 ? "" : "-v\(version)")
            do {
                let outbox = try MessageOutbox(
                    configuration: MessageOutboxConfiguration(databasePath: path, jsonFormat: try format(version, group.map(\.0))),
                    router: MQTTEventRouter(topics: group.map(\.1)), logger: Logger(label: "platestream.mqtt"))
                let connections = try group.map { ($0.0.id, try MQTTConnection(topics: $0.1)) }
                return MQTTOutput(outbox: outbox, connections: Dictionary(uniqueKeysWithValues: connections),
                                  cameras: group.map(\.0))
            } catch let error as ConfigError {
                throw error
            } catch {
                throw ConfigError("\(configPath): mqtt (outbox \(path)): \(error)")
            }
        }
    }
}

/// An MQTT output as a `Service`: connects every camera, sends the outbox until shutdown, drains as the
/// webhook service does (the pipeline has stopped by then, so every event is in the outbox), then publishes
/// each camera's `offline` and disconnects. What is still queued is sent by the next run.
struct MQTTService: Service {
    /// The output.
    let output: MQTTOutput

    func run() async throws {
        for connection in output.connections.values { connection.start() }
        let outbox = output.outbox
        let connections = output.connections
        let worker = Task { try await outbox.run(publishers: connections) }
        await withGracefulShutdownHandler {
            _ = await worker.result
        } onGracefulShutdown: {
            Task {
                await drainOutboxThenStop(worker, what: "MQTT messages", logger: Logger(label: "platestream.mqtt")) {
                    (try? outbox.pendingCount()) ?? 0
                }
            }
        }
        _ = await worker.result
        for connection in connections.values { await connection.stop() }
    }
}
