import Foundation
@testable import PlateHTTP
import Testing

@Suite("Addresses a URL fetch may reach")
struct AddressPolicyTests {
    @Test("IPv4 and IPv6 text parses strictly and prints in the shortest form")
    func parsing() {
        #expect(IPAddress("10.0.0.1") == .v4(0x0A00_0001))
        #expect(IPAddress("255.255.255.255") == .v4(0xFFFF_FFFF))
        for bad in ["010.0.0.1", "10.0.0", "10.0.0.1.2", "256.0.0.1", "1.2.3.-4", "0x7f.0.0.1", "2130706433", "", "::1::", "1:2:3:4:5:6:7:8:9",
                    "12345::", "g::1", "1.2.3.4::", ":1"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
        #expect(IPAddress("::1")?.description == "::1")
        #expect(IPAddress("::")?.description == "::")
        #expect(IPAddress("fe80::1%eth0")?.description == "fe80::1")
        #expect(IPAddress("2001:db8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        #expect(IPAddress("::ffff:192.168.1.1")?.embeddedIPv4 == 0xC0A8_0101)
        #expect(IPAddress("64:ff9b::7f00:1")?.embeddedIPv4 == 0x7F00_0001)
        #expect(IPAddress("2002:a9fe:a9fe::1")?.embeddedIPv4 == 0xA9FE_A9FE)
        #expect(IPAddress("1:2:3:4:5:6:7:8")?.description == "1:2:3:4:5:6:7:8")
    }

    @Test("classification", arguments: [
        ("8.8.8.8", AddressClass.public), ("93.184.216.34", .public), ("2606:4700::1111", .public),
        ("127.0.0.1", .loopback), ("127.255.1.2", .loopback), ("::1", .loopback),
        ("10.1.2.3", .private), ("172.16.0.1", .private), ("172.31.255.255", .private), ("192.168.0.10", .private),
        ("100.64.0.1", .private), ("fd12:3456::1", .private), ("fc00::1", .private), ("fec0::1", .private),
        ("169.254.1.1", .linkLocal), ("fe80::abcd", .linkLocal),
        ("169.254.169.254", .metadata), ("169.254.170.2", .metadata), ("100.100.100.200", .metadata), ("fd00:ec2::254", .metadata),
        ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified), ("::", .unspecified),
        ("224.0.0.1", .multicast), ("ff02::1", .multicast), ("255.255.255.255", .broadcast),
        ("240.0.0.1", .reserved), ("192.0.2.5", .reserved), ("198.18.0.1", .reserved), ("2001:db8::1", .reserved),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", .reserved), ("::7f00:1", .reserved),
        // IPv6 forms that carry an IPv4 host are judged as that host.
        ("::ffff:127.0.0.1", .loopback), ("::ffff:10.0.0.1", .private), ("::ffff:169.254.169.254", .metadata),
        ("64:ff9b::a9fe:a9fe", .metadata), ("2002:7f00:1::", .loopback), ("::ffff:8.8.8.8", .public),
        ("172.32.0.1", .public), ("172.15.255.255", .public), ("100.128.0.1", .public),
    ])
    func classification(address: String, expected: AddressClass) throws {
        #expect(try #require(IPAddress(address)).classification == expected)
    }

    @Test("allow-list entries: addresses, CIDR blocks (IPv4-mapped included) and host names")
    func allowList() throws {
        let list = AllowList(["10.1.0.0/16", "fd00::/8", "127.0.0.1", "Camera.LAN.", "[::1]"])
        #expect(list.entries.count == 5)
        #expect(list.allows(host: "x", address: try #require(IPAddress("10.1.200.3"))))
        #expect(!list.allows(host: "x", address: try #require(IPAddress("10.2.0.1"))))
        #expect(list.allows(host: "x", address: try #require(IPAddress("::ffff:10.1.0.9"))))
        #expect(list.allows(host: "x", address: try #require(IPAddress("fd99::1"))))
        #expect(!list.allows(host: "x", address: try #require(IPAddress("fe80::1"))))
        #expect(list.allows(host: "x", address: try #require(IPAddress("127.0.0.1"))))
        #expect(!list.allows(host: "x", address: try #require(IPAddress("127.0.0.2"))))
        #expect(list.allows(host: "camera.lan", address: try #require(IPAddress("192.168.7.7"))))
        #expect(list.allows(host: "x", address: try #require(IPAddress("::1"))))
        for bad in ["10.0.0.0/33", "10.0.0.0/x", "a/b/c", "-bad-.lan", "under_score.lan", "", "fd00::/129"] {
            #expect(AllowList.Entry(bad) == nil, "\(bad)")
        }
        #expect(AllowList.Entry("0.0.0.0/0")?.contains(try #require(IPAddress("203.0.113.1"))) == true)
    }
}

/// A fetcher that answers from a table and records what it was asked.
final class ScriptedFetcher: ImageURLFetcher, @unchecked Sendable {
    private let lock = NSLock()
    private var log: [ImageFetchRequest] = []
    let answer: @Sendable (ImageFetchRequest) async throws -> ImageFetchResponse
    init(_ answer: @escaping @Sendable (ImageFetchRequest) async throws -> ImageFetchResponse) { self.answer = answer }
    var requests: [ImageFetchRequest] { lock.withLock { log } }
    func fetch(_ request: ImageFetchRequest) async throws -> ImageFetchResponse {
        lock.withLock { log.append(request) }
        return try await answer(request)
    }
}

@Suite("Fetching images from client URLs")
struct URLImageLoaderTests {
    static let resolver = TableResolver(table: [
        "public.test": [IPAddress("93.184.216.34")!],
        "rebind.test": [IPAddress("93.184.216.34")!, IPAddress("10.0.0.5")!],
        "internal.test": [IPAddress("192.168.1.20")!],
        "v6.test": [IPAddress("::ffff:127.0.0.1")!],
    ])

    func loader(_ fetcher: ScriptedFetcher?, allow: [String] = [], maxBytes: Int = 1000, timeout: Double = 30, redirects: Int = 2) -> URLImageLoader {
        URLImageLoader(fetcher: fetcher, resolver: Self.resolver, allowList: AllowList(allow), maxBytes: maxBytes,
                       timeoutSeconds: timeout, maxRedirects: redirects)
    }

    @Test("a public host is fetched from the address that was checked")
    func pinned() async throws {
        let fetcher = ScriptedFetcher { _ in ImageFetchResponse(status: 200, body: Data("img".utf8)) }
        let data = try await loader(fetcher).load("http://public.test:8080/a.jpg")
        #expect(data == Data("img".utf8))
        let request = try #require(fetcher.requests.first)
        #expect(request.address == IPAddress("93.184.216.34"))
        #expect(request.host == "public.test")
        #expect(request.port == 8080)
        #expect(request.maxBytes == 1000)
    }

    @Test("refused after resolution: loopback, private, link-local, metadata, a name with one private address, IPv4-mapped loopback",
          arguments: ["http://127.0.0.1/a.jpg", "http://[::1]:80/a.jpg", "http://10.9.9.9/a.jpg", "http://169.254.169.254/latest/meta-data/",
                      "http://[fd00:ec2::254]/", "http://internal.test/a.jpg", "http://rebind.test/a.jpg", "http://v6.test/a.jpg",
                      "http://0.0.0.0:8080/", "http://metadata.google.internal/computeMetadata/v1/", "https://[fe80::1]/x"])
    func refused(url: String) async {
        let fetcher = ScriptedFetcher { _ in ImageFetchResponse(status: 200, body: Data("secret".utf8)) }
        await #expect(throws: URLLoadError.self) { _ = try await loader(fetcher).load(url) }
        #expect(fetcher.requests.isEmpty, "nothing was fetched")
    }

    @Test("the allow-list opens named hosts and blocks")
    func allowed() async throws {
        let fetcher = ScriptedFetcher { _ in ImageFetchResponse(status: 200, body: Data("ok".utf8)) }
        #expect(try await loader(fetcher, allow: ["internal.test"]).load("http://internal.test/a.jpg") == Data("ok".utf8))
        #expect(try await loader(fetcher, allow: ["127.0.0.0/8"]).load("http://127.0.0.1/a.jpg") == Data("ok".utf8))
        #expect(try await loader(fetcher, allow: ["127.0.0.0/8"]).load("http://v6.test/a.jpg") == Data("ok".utf8))
        await #expect(throws: URLLoadError.self) { _ = try await loader(fetcher, allow: ["internal.test"]).load("http://rebind.test/") }
    }

    @Test("every redirect is checked like the first URL, and their number is capped")
    func redirects() async throws {
        let toPrivate = ScriptedFetcher { request in
            request.url.path == "/start" ? ImageFetchResponse(status: 302, location: "http://10.0.0.1/x.jpg") : ImageFetchResponse(status: 200)
        }
        do throws(URLLoadError) {
            _ = try await loader(toPrivate).load("http://public.test/start")
            Issue.record("redirect to a private address was followed")
        } catch {
            #expect(error.isRefusedAddress)
        }
        #expect(toPrivate.requests.count == 1)

        let relative = ScriptedFetcher { request in
            request.url.path == "/start" ? ImageFetchResponse(status: 301, location: "/img.jpg") : ImageFetchResponse(status: 200, body: Data("x".utf8))
        }
        #expect(try await loader(relative).load("http://public.test/start") == Data("x".utf8))
        #expect(relative.requests.last?.url.absoluteString == "http://public.test/img.jpg")

        let loop = ScriptedFetcher { _ in ImageFetchResponse(status: 307, location: "/again") }
        do throws(URLLoadError) {
            _ = try await loader(loop, redirects: 2).load("http://public.test/")
            Issue.record("redirect loop was followed forever")
        } catch {
            #expect(error.isTooManyRedirects)
        }
        #expect(loop.requests.count == 3)
    }

    @Test("size, time, status and scheme limits")
    func limits() async {
        let big = ScriptedFetcher { _ in ImageFetchResponse(status: 200, body: Data(count: 5000)) }
        await #expect(throws: URLLoadError.tooLarge(1000)) { _ = try await loader(big).load("http://public.test/") }
        // A server that answers after two minutes: the 0.3 s limit ends the load long before. (The bound is loose on
        // purpose: with every test of the suite running, the cooperative pool has been seen busy for 27 s before the
        // timeout's task ran; a limit that did not work would wait the full two minutes.)
        let slow = ScriptedFetcher { _ in
            try await Task.sleep(for: .seconds(120))
            return ImageFetchResponse(status: 200)
        }
        let started = ContinuousClock.now
        await #expect(throws: URLLoadError.timeout(0.3)) { _ = try await loader(slow, timeout: 0.3).load("http://public.test/") }
        #expect(ContinuousClock.now - started < .seconds(90))
        let missing = ScriptedFetcher { _ in ImageFetchResponse(status: 404) }
        await #expect(throws: URLLoadError.status(404)) { _ = try await loader(missing).load("http://public.test/") }
        for url in ["ftp://public.test/a.jpg", "file:///etc/passwd", "gopher://x", "not a url", "http:///nohost"] {
            await #expect(throws: URLLoadError.self, "\(url)") { _ = try await loader(missing).load(url) }
        }
        await #expect(throws: URLLoadError.disabled) { _ = try await loader(nil).load("http://public.test/") }
    }
}
