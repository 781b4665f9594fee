import NetfilterModel
import Testing

@Suite struct AddressTests {
  @Test(arguments: [
    ("11.11.11.2", "11.11.11.2"),
    ("0.0.0.0", "0.0.0.0"),
    ("2001:db8::1", "2001:db8::1"),
    ("2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"),
    ("::", "::"),
    ("::1", "::1"),
    ("fe80::", "fe80::"),
    ("2001:db8:0:0:1::", "2001:db8:0:0:1::"),
    ("::ffff:1.2.3.4", "::ffff:102:304"),
    ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
  ])
  func parsesAndPrintsCanonically(text: String, canonical: String) throws {
    let a = try #require(IPAddress(text))
    #expect(a.description == canonical)
    #expect(IPAddress(canonical) == a)
  }

  @Test(arguments: [
    "1.2.3", "1.2.3.256", "01.2.3.4", "1.2.3.4.5", "1:::2", "1::2::3", "12345::", "g::1", "", "1:2:3:4:5:6:7:8:9",
  ])
  func rejectsMalformed(text: String) {
    #expect(IPAddress(text) == nil)
  }

  @Test func prefixMath() throws {
    let a = try #require(IPAddress("11.11.11.77"))
    #expect(a.masked(to: 24) == IPAddress("11.11.11.0"))
    #expect(a.lastAddress(prefixLength: 24) == IPAddress("11.11.11.255"))
    #expect(a.masked(to: 0) == IPAddress("0.0.0.0"))
    let p = IPPrefix(address: try #require(IPAddress("2001:db8::")), length: 32)
    #expect(p.last == IPAddress("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"))
    #expect(p.contains(try #require(IPAddress("2001:db8:1::5"))))
    #expect(!p.contains(try #require(IPAddress("2001:db9::"))))
    #expect(!p.contains(try #require(IPAddress("1.2.3.4"))))
    #expect(IPPrefix(try #require(IPAddress("1.2.3.4"))).description == "1.2.3.4")
  }

  @Test func macAddresses() {
    #expect(MACAddress("00:11:22:AA:bb:C")?.description == "00:11:22:aa:bb:0c")
    #expect(MACAddress("00:11:22:33:44") == nil)
    #expect(MACAddress("00:11:22:33:44:555") == nil)
  }
}

@Suite struct ModelTests {
  @Test func sourceLocationsDoNotAffectEquality() {
    let a = Rule(verdict: .accept, location: SourceLocation(file: "a", line: 1, column: 1))
    let b = Rule(verdict: .accept, location: SourceLocation(file: "b", line: 9, column: 4))
    #expect(a == b)
    #expect(a.location.origin == "a:1")
  }

  @Test func prioritiesCompareByValue() {
    #expect(Priority(name: .filter, offset: 10) == .number(10))
    #expect(Priority(name: .srcnat, offset: -5).description == "srcnat - 5")
    #expect(Priority(name: .raw).value == -300)
  }

  @Test func interfacePatterns() {
    let p = InterfacePattern(parsing: "veth*")
    #expect(p.matches("veth0") && !p.matches("eth0"))
    #expect(InterfacePattern(parsing: "eth0").matches("eth0"))
    #expect(!InterfacePattern(parsing: "eth0").matches("eth01"))
  }

  @Test func rateLimitText() {
    #expect(RateLimit(rate: 3, unit: .minute).description == "limit rate 3/minute")
    #expect(RateLimit(rate: 3, unit: .minute, burst: 10).description == "limit rate 3/minute burst 10 packets")
    #expect(RateLimit(rate: 1, unit: .second, over: true).description == "limit rate over 1/second")
  }
}
