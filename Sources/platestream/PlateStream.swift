import ArgumentParser
import PlateDecode

/// The `platestream` command line.
@main
struct PlateStreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platestream",
        abstract: "On-premise licence-plate recognition for cameras and video files.",
        subcommands: []
    )

    func run() throws {
        print("platestream (libavcodec \(FFmpegVersion.avcodec))")
    }
}
