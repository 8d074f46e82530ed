// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "PlateStream",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "platestream", targets: ["platestream"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // NIO itself (already under Hummingbird) for PlateHTTP's slow-client guard, a channel handler.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // C libraries, each behind exactly one import.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev", "libavdevice-dev"])]
        ),
        // OpenCV (Debian's libopencv-dev) without pkg-config: opencv4.pc names all 55 of its modules, and a
        // system library's -l flags come before any -Xlinker --as-needed, so every binary loaded 448 shared
        // libraries (Qt through highgui, VTK through viz, Tesseract through text, ...) for the 5 modules the shim
        // calls: 33 MB more RSS per process. The include path is where Debian installs the headers.
        .target(
            name: "COpenCV",
            cxxSettings: [.unsafeFlags(["-isystem", "/usr/include/opencv4"])],
            linkerSettings: ["opencv_core", "opencv_imgproc", "opencv_imgcodecs", "opencv_dnn", "opencv_video"]
                .map { .linkedLibrary($0) }
        ),
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),

        // Value types and stage protocols; imports nothing of ours.
        .target(name: "PlateCore", swiftSettings: swiftSettings),

        // Adapters: PlateCore plus one outside library each.
        .target(
            name: "PlateDecode",
            dependencies: ["PlateCore", "CFFmpeg", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlateVision",
            dependencies: ["PlateCore", "COpenCV"],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "PlateSinks",
            dependencies: [
                "PlateCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL event store (several nodes, one database): PlateCore's EventStore over postgres-nio.
        .target(
            name: "PlatePostgres",
            dependencies: [
                "PlateCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // MQTT: one connection per camera over libmosquitto; its durable outbox is PlateSinks' MessageOutbox.
        .target(
            name: "PlateMQTT",
            dependencies: ["PlateCore", "CMosquitto", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PlateHTTP",
            dependencies: [
                "PlateCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                // HummingbirdCore by name: `ClosingHTTP1Channel` wraps its `HTTP1Channel` (Hummingbird re-exports little of it).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                // Why NIO next to Hummingbird: the header and body deadlines are channel handlers in the
                // server's pipeline (Hummingbird's `additionalChannelHandlers`), below the router.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The live console: its routes and the page (static files, no build step), over protocols the CLI fills.
        .target(
            name: "PlateConsole",
            dependencies: ["PlateCore", .product(name: "Hummingbird", package: "hummingbird")],
            resources: [.copy("Resources/console")],
            swiftSettings: swiftSettings
        ),

        // Pure logic: PlateCore only (plus logging and metrics interfaces).
        .target(name: "PlateTracking", dependencies: ["PlateCore"], swiftSettings: swiftSettings),
        .target(
            name: "PlatePipeline",
            dependencies: [
                "PlateCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),

        // Fakes for unit tests: scripted sources, fixed detectors, recording sinks.
        .target(name: "PlateTesting", dependencies: ["PlateCore"], swiftSettings: swiftSettings),

        // The CLI: the only place that wires adapters together.
        .executableTarget(
            name: "platestream",
            dependencies: [
                "PlateCore", "PlateDecode", "PlateVision", "PlateTracking", "PlatePipeline", "PlateSinks", "PlateHTTP",
                "PlateMQTT", "PlateConsole", "PlatePostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/config.schema.json")],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "PlateCoreTests", dependencies: ["PlateCore"], swiftSettings: swiftSettings),
        .testTarget(name: "PlateTrackingTests", dependencies: ["PlateCore", "PlateTracking"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PlatePipelineTests",
            dependencies: [
                "PlateCore", "PlatePipeline", "PlateTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlateSinksTests",
            dependencies: ["PlateCore", "PlateSinks", "PlateTesting", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlateHTTPTests",
            dependencies: [
                "PlateCore", "PlateHTTP", "PlateTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlatePostgresTests",
            dependencies: ["PlateCore", "PlatePostgres", "PlateSinks", "PlateTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PlateMQTTTests", dependencies: ["PlateCore", "PlateMQTT"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PlateConsoleTests",
            dependencies: [
                "PlateCore", "PlateConsole",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlateDecodeTests",
            dependencies: ["PlateCore", "PlateDecode", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            // platestream: the CLI tests run the built binary, so the build must make it first.
            dependencies: ["PlateCore", "PlateDecode", "PlateVision", "PlateSinks", "PlateMQTT", "PlateTesting", "platestream",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
    ],
    cxxLanguageStandard: .cxx17
)

// Coverage-guided fuzz targets (libFuzzer), built only by scripts/fuzz: it sets PLATESTREAM_FUZZ=1 and builds
// with libFuzzer's coverage and ASan (-sanitize=fuzzer,address) into its own scratch path, so the flags and libFuzzer's
// main never reach the normal build. The targets live in Tests/Fuzz/PlateFuzz (one binary; the target is picked
// by PLATESTREAM_FUZZ_TARGET) and reach internal parsers through `package` entry points.
if Context.environment["PLATESTREAM_FUZZ"] == "1" {
    package.products.append(.executable(name: "platestream-fuzz", targets: ["PlateFuzz"]))
    package.targets.append(.executableTarget(
        name: "PlateFuzz",
        dependencies: ["PlateCore", "PlateHTTP", "PlateVision", "PlateSinks", .product(name: "GRDB", package: "GRDB.swift")],
        path: "Tests/Fuzz/PlateFuzz",
        swiftSettings: swiftSettings
    ))
}
