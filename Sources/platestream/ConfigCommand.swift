import ArgumentParser
import Foundation
import PlateCore
import PlateVision

/// `platestream config check|schema`: validate a configuration file, or print its JSON Schema.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Validate a configuration file or print its JSON Schema.",
        subcommands: [Check.self, Schema.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate config.json: every wrong key, type or value is reported with its JSON path.")

        @Argument(help: "The configuration file.")
        var path: String = "config.json"

        func run() throws {
            AppConfig.knownRegion = RegionTemplates.isKnown
            let config = try AppConfig.load(path: path)
            let cameras = config.resolvedCameras
            print("\(path): valid; \(cameras.count) active camera(s)" + (cameras.isEmpty ? "" : ": ")
                  + cameras.map { "\($0.id) (\(SourceURL.redacted($0.url)))" }.joined(separator: ", "))
        }
    }

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the configuration's JSON Schema.")

        func run() throws {
            FileHandle.standardOutput.write(try AppConfig.schemaData())
        }
    }
}
