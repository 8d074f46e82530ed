import Testing
@testable import PlateCore

@Suite struct SourceURLTests {
    @Test func redactsPasswordButKeepsUser() {
        #expect(SourceURL.redacted("rtsp://admin:s3cret@10.0.0.5:554/stream1") == "rtsp://admin:***@10.0.0.5:554/stream1")
        #expect(SourceURL.redacted("rtsp://admin@cam/s") == "rtsp://admin@cam/s")
        #expect(SourceURL.redacted("rtsp://a:p@ss@cam/x?y=1") == "rtsp://a:***@cam/x?y=1")
        #expect(SourceURL.redacted("/videos/a@b.mp4") == "/videos/a@b.mp4")
        #expect(SourceURL.redacted("http://cam/video.mjpg?user=a@b") == "http://cam/video.mjpg?user=a@b")
    }

    @Test func stripsCredentials() {
        #expect(SourceURL.withoutCredentials("rtsp://admin:s3cret@cam:554/s") == "rtsp://cam:554/s")
        #expect(SourceURL.withoutCredentials("rtsp://cam/s") == "rtsp://cam/s")
    }

    @Test func classifiesKinds() {
        #expect(SourceURL.kind(of: "RTSP://cam/s") == .rtsp)
        #expect(SourceURL.kind(of: "http://cam/video.mjpg") == .http)
        #expect(SourceURL.kind(of: "/dev/video0") == .device)
        #expect(SourceURL.kind(of: "Samples/a.mp4") == .file)
        #expect(SourceURL.kind(of: "-") == .pipe)
        #expect(SourceKind.rtsp.isLive && !SourceKind.file.isLive)
    }

    @Test func mediaTimeIsExact() {
        let a = MediaTime(value: 1, timescale: 25)
        let b = MediaTime(value: 40, timescale: 1000)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(MediaTime(value: 2, timescale: 25) > b)
        #expect(abs(MediaTime(value: 3, timescale: 25).seconds - 0.12) < 1e-12)
    }
}
