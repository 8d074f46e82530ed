import Testing
@testable import PlateDecode

/// DecodeError: codes, redaction, messages; and the FFmpeg return-code checker.
@Suite struct DecodeErrorTests {
    @Test func namesTheSourceWithThePasswordRedacted() {
        let error = DecodeError(.authenticationFailed, source: "rtsp://admin:hunter2@10.0.0.5/live", detail: "(401 Unauthorized)")
        #expect(error.source == "rtsp://admin:***@10.0.0.5/live")
        #expect(error.description.contains("rtsp://admin:***@10.0.0.5/live"))
        #expect(error.description.contains("authentication failed"))
        #expect(!error.description.contains("hunter2"))
    }

    @Test func comparesByCode() {
        let a = DecodeError(.timeout, source: "rtsp://cam/a")
        #expect(a.code == .timeout)
        #expect(a.code != .connectionRefused)
        #expect(DecodeError.Code.timeout.description == "timeout")
    }

    @Test func keepsFFmpegCodeAndMessage() {
        let underlying = FFmpegError(code: FFmpegError.invalidData, operation: "avformat_open_input")
        let error = DecodeError(.notAVideo, source: "/videos/x.mp4", underlying: underlying)
        #expect(error.ffmpegCode == FFmpegError.invalidData)
        #expect(error.ffmpegMessage == "Invalid data found when processing input")
        #expect(error.description == "/videos/x.mp4: not a video (FFmpeg: Invalid data found when processing input, code \(FFmpegError.invalidData))")
    }

    @Test func logLinesLoseCredentials() {
        #expect(redactingCredentials("Opening rtsp://admin:hunter2@10.0.0.5:554/live for reading")
                == "Opening rtsp://admin:***@10.0.0.5:554/live for reading")
        #expect(redactingCredentials("a:p@ss@cam? no scheme, left alone") == "a:p@ss@cam? no scheme, left alone")
        #expect(redactingCredentials("url http://u:p@ss@cam/x.mjpg and rtsps://v:w@h") == "url http://u:***@cam/x.mjpg and rtsps://v:***@h")
        #expect(redactingCredentials("GET /video.mjpg HTTP/1.1\r\nAuthorization: Basic b3A6bGV0bWVpbg==\r\nHost: cam\r\n")
                == "GET /video.mjpg HTTP/1.1\r\nAuthorization: ***\r\nHost: cam\r\n")
        #expect(redactingCredentials("proxy-authorization: Digest username=\"a\", response=\"ff\"") == "proxy-authorization: ***")
        #expect(redactingCredentials("[h264 @ 0x55] no frame!") == "[h264 @ 0x55] no frame!")
    }

    @Test func checkerPassesResultsAndNamesAgainAndEOF() throws {
        #expect(try check(7, "test") == 7)
        #expect(try check(0, "test") == 0)
        let again = try #require(throws: FFmpegError.self) { try check(FFmpegError.again, "avcodec_receive_frame") }
        #expect(again.isAgain && !again.isEndOfFile)
        #expect(again.message == "Resource temporarily unavailable")
        let eof = try #require(throws: FFmpegError.self) { try check(FFmpegError.endOfFile, "av_read_frame") }
        #expect(eof.isEndOfFile && !eof.isAgain && eof.message == "End of file")
        let refused = try #require(throws: FFmpegError.self) { try check(-111, "avformat_open_input") }
        #expect(refused.isPOSIX(111))
        #expect(refused.message == "Connection refused")
        #expect(refused.description == "avformat_open_input: Connection refused (-111)")
    }
}
