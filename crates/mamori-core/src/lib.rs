#![doc = include_str!("../README.md")]
#![no_std]

extern crate alloc;

mod b64;
pub mod device_key;
pub mod fingerprint;
pub mod otp;
pub mod token;
