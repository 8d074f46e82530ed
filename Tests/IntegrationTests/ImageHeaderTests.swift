import Testing
import Foundation
import PlateCore
@testable import PlateVision

@Suite struct ImageHeaderTests {
    // JPEG comes from OpenCV's encoder; the other formats from hand-built headers, so no tool is needed.
    @Test func readsJpegSizeFromARealFile() throws {
        let image = Image(width: 123, height: 45, format: .bgr24)
        memset(image.buffer.bytes, 128, image.buffer.count)
        let jpeg = try ImageCodec.encodeJPEG(image)
        #expect(ImageHeader.parse(jpeg) == ImageHeader(format: .jpeg, width: 123, height: 45))
    }

    @Test func readsPngBmpTiffWebpHeaders() {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        png += [0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20, 8, 2, 0, 0, 0]             // 20000 x 20000
        #expect(ImageHeader.parse(Data(png)) == ImageHeader(format: .png, width: 20000, height: 20000))

        var bmp = [UInt8](repeating: 0, count: 54)
        bmp[0] = 0x42; bmp[1] = 0x4D
        bmp[18] = 0x40; bmp[19] = 0x01                                           // width 320
        let h = UInt32(bitPattern: -240)                                          // top-down
        bmp[22] = UInt8(h & 0xFF); bmp[23] = UInt8((h >> 8) & 0xFF); bmp[24] = UInt8((h >> 16) & 0xFF); bmp[25] = UInt8(h >> 24)
        #expect(ImageHeader.parse(Data(bmp)) == ImageHeader(format: .bmp, width: 320, height: 240))

        // little-endian TIFF, one IFD with ImageWidth=640 (SHORT), ImageLength=480 (LONG)
        var tiff: [UInt8] = [0x49, 0x49, 0x2A, 0, 8, 0, 0, 0, 2, 0]
        tiff += [0x00, 0x01, 3, 0, 1, 0, 0, 0, 0x80, 0x02, 0, 0]
        tiff += [0x01, 0x01, 4, 0, 1, 0, 0, 0, 0xE0, 0x01, 0, 0]
        #expect(ImageHeader.parse(Data(tiff)) == ImageHeader(format: .tiff, width: 640, height: 480))

        var webp: [UInt8] = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8X".utf8)
        webp += [10, 0, 0, 0, 0, 0, 0, 0]
        webp += [0x1F, 0x03, 0x00, 0xDF, 0x01, 0x00]                              // 800 x 480 (minus one)
        #expect(ImageHeader.parse(Data(webp)) == ImageHeader(format: .webp, width: 800, height: 480))
    }

    @Test func refusesHugeDeclaredImagesBeforeDecoding() {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        png += [0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 2, 0, 0, 0, 0, 0, 0, 0]  // 30000 x 30000, no pixel data
        do {
            _ = try ImageCodec.decode(Data(png))
            Issue.record("a 30000x30000 header was decoded")
        } catch let error as ImageCodecError {
            #expect(error.isTooLarge)
            #expect(error.description.contains("30000x30000"))
        } catch { Issue.record("unexpected error \(error)") }
    }

    /// Found by scripts/fuzz (image-decode): the pixel count of a 32-bit size overflowed Int and stopped the process.
    @Test func refusesSizesWhoseProductOverflows() {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        png += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 8, 2, 0, 0, 0, 0, 0, 0, 0]  // 4294967295 x 4294967295
        do {
            _ = try ImageCodec.decode(Data(png))
            Issue.record("a 4294967295x4294967295 header was decoded")
        } catch let error as ImageCodecError {
            #expect(error.isTooLarge)
        } catch { Issue.record("unexpected error \(error)") }
    }

    @Test func truncatedAndForeignBytesAreNotImages() throws {
        #expect(ImageHeader.parse(Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16])) == nil)
        #expect(ImageHeader.parse(Data("GIF89a....".utf8)) == nil)
        let image = Image(width: 64, height: 48, format: .bgr24)
        memset(image.buffer.bytes, 90, image.buffer.count)
        let jpeg = try ImageCodec.encodeJPEG(image)
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(jpeg.prefix(20)) }
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(Data("%PDF-1.4".utf8)) }
        // Cut in the middle of the entropy-coded data: the header parses, the end marker is missing.
        do {
            _ = try ImageCodec.decode(jpeg.prefix(jpeg.count * 2 / 3))
            Issue.record("a truncated JPEG decoded")
        } catch let error as ImageCodecError {
            #expect(error.isNotAnImage && error.description.contains("truncated"))
        }
    }
}
