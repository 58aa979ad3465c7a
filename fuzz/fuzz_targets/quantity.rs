//! Quantity parsing: never panics; a parsed value formats and parses back to itself; the
//! base-unit value is the millis value rounded up to whole units.
#![no_main]

use compactor_core::quantity::{Unit, format, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = parse(text, Unit::Base);
    let milli = parse(text, Unit::Milli);
    if let Ok(v) = base {
        assert_eq!(
            parse(&format(v, Unit::Base), Unit::Base),
            Ok(v),
            "base round trip of {text:?}"
        );
    }
    if let Ok(m) = milli {
        assert_eq!(
            parse(&format(m, Unit::Milli), Unit::Milli),
            Ok(m),
            "milli round trip of {text:?}"
        );
        // ceil(1000·x) / 1000 rounded up is ceil(x).
        if let Ok(v) = base {
            assert_eq!(
                m.div_ceil(1000),
                v,
                "milli {m} and base {v} disagree for {text:?}"
            );
        }
    }
    if base.is_err() && milli.is_ok() {
        // Only range can make the base unit fail where millis succeed: impossible, since
        // the base value is smaller.
        panic!("{text:?} parses in millis but not in base units: {base:?}");
    }
});
