import Testing
import Foundation
import PlateCore
@testable import PlateVision

@Suite struct ImageCodecTests {
    @Test func jpegRoundTripKeepsColours() throws {
        let image = Image(width: 64, height: 32, format: .bgr24)
        let p = image.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        for y in 0..<32 { for x in 0..<64 {
            let o = y * image.stride + x * 3
            // left half pure red, right half pure blue (BGR order)
            if x < 32 { p[o] = 0; p[o + 1] = 0; p[o + 2] = 255 } else { p[o] = 255; p[o + 1] = 0; p[o + 2] = 0 }
        } }
        let jpeg = try ImageCodec.encodeJPEG(image, quality: 95)
        #expect(jpeg.starts(with: [0xFF, 0xD8]))
        let back = try ImageCodec.decode(jpeg)
        #expect(back.width == 64 && back.height == 32)
        let red = back.pixel(x: 8, y: 16), blue = back.pixel(x: 56, y: 16)
        #expect(red[2] > 230 && red[0] < 25)
        #expect(blue[0] > 230 && blue[2] < 25)
    }

    @Test func garbageIsNotAnImage() {
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(Data("hello, not a picture".utf8)) }
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(Data()) }
    }
}
