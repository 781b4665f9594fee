/// The options of the `CONNMARK` target, as the kernel holds them.
///
/// `--set-mark`, `--and-mark`, `--or-mark` and `--xor-mark` are all `set` with a value and mask
/// (iptables-save lists them as `--set-xmark V/M`); `--mask` sets both masks.
public struct IPTConnmark: Sendable, Equatable {
  /// `XT_CONNMARK_SET`, `XT_CONNMARK_SAVE` (nfmark → ctmark), `XT_CONNMARK_RESTORE` (ctmark → nfmark).
  public enum Mode: UInt8, Sendable, Equatable {
    /// `--set-xmark`: ctmark = (ctmark & ~ctmask) ^ value.
    case set = 0
    /// `--save-mark`.
    case save = 1
    /// `--restore-mark`.
    case restore = 2
  }

  /// The operation.
  public var mode: Mode
  /// The value of `--set-xmark` (`ctmark`).
  public var value: UInt32
  /// `--ctmask` (the mask of `--set-xmark`).
  public var ctmask: UInt32
  /// `--nfmask`.
  public var nfmask: UInt32
  /// `--right-shift-mark` (true) or `--left-shift-mark`.
  public var shiftRight: Bool
  /// The bits shifted by; 0 for none.
  public var shiftBits: UInt8

  /// Creates the options; the masks default to all ones, as libxt_CONNMARK's init sets them.
  public init(
    mode: Mode, value: UInt32 = 0, ctmask: UInt32 = .max, nfmask: UInt32 = .max, shiftRight: Bool = false,
    shiftBits: UInt8 = 0
  ) {
    self.mode = mode
    self.value = value
    self.ctmask = ctmask
    self.nfmask = nfmask
    self.shiftRight = shiftRight
    self.shiftBits = shiftBits
  }
}

/// The options of the `CT` target: a conntrack template for the packet's connection.
public struct IPTConntrackTemplate: Sendable, Equatable {
  /// `XT_CT_NOTRACK` (`--notrack`), `XT_CT_ZONE_DIR_ORIG`/`_REPL` (`--zone-orig`/`--zone-reply`),
  /// `XT_CT_ZONE_MARK` (the zone is the packet mark).
  public var flags: UInt16
  /// `--zone N`.
  public var zone: UInt16
  /// `--ctevents`: `1 << IPCT_*` bits.
  public var ctEvents: UInt32
  /// `--expevents`: `1 << IPEXP_*` bits.
  public var expEvents: UInt32
  /// `--helper NAME` (at most 15 bytes), empty for none.
  public var helper: String

  /// Creates the options.
  public init(flags: UInt16 = 0, zone: UInt16 = 0, ctEvents: UInt32 = 0, expEvents: UInt32 = 0, helper: String = "") {
    self.flags = flags
    self.zone = zone
    self.ctEvents = ctEvents
    self.expEvents = expEvents
    self.helper = helper
  }
}

/// The options of the `NFLOG` target.
public struct IPTNFLog: Sendable, Equatable {
  /// `--nflog-group N`.
  public var group: UInt16
  /// `--nflog-prefix TEXT` (at most 63 bytes).
  public var prefix: String
  /// `--nflog-size N` or `--nflog-range N`: bytes copied to userspace.
  public var length: UInt32
  /// True for `--nflog-size` (`XT_NFLOG_F_COPY_LEN`); `--nflog-range` sets `length` only.
  public var copyLength: Bool
  /// `--nflog-threshold N`.
  public var threshold: UInt16

  /// Creates the options.
  public init(
    group: UInt16 = 0, prefix: String = "", length: UInt32 = 0, copyLength: Bool = false, threshold: UInt16 = 0
  ) {
    self.group = group
    self.prefix = prefix
    self.length = length
    self.copyLength = copyLength
    self.threshold = threshold
  }
}

/// `-j TTL` (IPv4) or `-j HL` (IPv6): a change of the TTL or hop limit.
public struct IPTHopLimitChange: Sendable, Equatable {
  /// `IPT_TTL_*`/`IP6T_HL_*`: 0 set, 1 increment, 2 decrement.
  public var mode: UInt8
  /// The value set, added or subtracted.
  public var value: UInt8

  /// Creates a change.
  public init(mode: UInt8, value: UInt8) {
    self.mode = mode
    self.value = value
  }
}

/// The options of the `NFQUEUE` target.
public struct IPTNFQueue: Sendable, Equatable {
  /// `--queue-num N`, or the first queue of `--queue-balance A:B`.
  public var number: UInt16
  /// How many queues (B − A + 1); 1 without `--queue-balance`.
  public var total: UInt16
  /// `NFQ_FLAG_BYPASS` (`--queue-bypass`), `NFQ_FLAG_CPU_FANOUT` (`--queue-cpu-fanout`).
  public var flags: UInt16

  /// Creates the options.
  public init(number: UInt16 = 0, total: UInt16 = 1, flags: UInt16 = 0) {
    self.number = number
    self.total = total
    self.flags = flags
  }
}
