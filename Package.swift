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
    ],
    targets: [
        // C libraries, each behind exactly one import.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev", "libavdevice-dev"])]
        ),
        .systemLibrary(
            name: "COpenCVSystem",
            pkgConfig: "opencv4",
            providers: [.apt(["libopencv-dev"])]
        ),
        .target(
            name: "COpenCV",
            dependencies: ["COpenCVSystem"]
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

        // Pure logic: PlateCore only.
        .target(name: "PlateTracking", dependencies: ["PlateCore"], swiftSettings: swiftSettings),

        // The CLI: the only place that wires adapters together.
        .executableTarget(
            name: "platestream",
            dependencies: [
                "PlateCore", "PlateDecode", "PlateVision",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "PlateCoreTests", dependencies: ["PlateCore"], swiftSettings: swiftSettings),
        .testTarget(name: "PlateTrackingTests", dependencies: ["PlateCore", "PlateTracking"], swiftSettings: swiftSettings),
        .testTarget(name: "PlateDecodeTests", dependencies: ["PlateCore", "PlateDecode"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["PlateCore", "PlateDecode", "PlateVision"],
            swiftSettings: swiftSettings
        ),
    ],
    cxxLanguageStandard: .cxx17
)
