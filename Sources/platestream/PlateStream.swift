import ArgumentParser
import PlateDecode

/// The `platestream` command line.
@main
struct PlateStreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platestream",
        abstract: "On-premise licence-plate recognition for cameras and video files.",
        subcommands: [ProbeCommand.self, FramesCommand.self, ReadCommand.self, EvalCommand.self, ServeCommand.self, ConfigCommand.self, RunCommand.self,
                      BenchSearchCommand.self]
    )

    func run() throws {
        print("platestream (libavcodec \(FFmpegVersion.avcodec))")
    }
}
