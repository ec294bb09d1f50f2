use ferrokey_table::{Entry, EntryRef, Table};
use std::ptr::NonNull;

/// A heap-allocated byte string behind a thin pointer: [len: u32][bytes].
pub struct Bytes(NonNull<u8>);

impl Bytes {
    pub fn new(b: &[u8]) -> Self {
        let mut v = Vec::with_capacity(4 + b.len());
        v.extend_from_slice(&(b.len() as u32).to_le_bytes());
        v.extend_from_slice(b);
        let bx = v.into_boxed_slice();
        Bytes(NonNull::new(Box::into_raw(bx) as *mut u8).unwrap())
    }
    fn as_slice(&self) -> &[u8] {
        unsafe {
            let len = u32::from_le_bytes(*(self.0.as_ptr() as *const [u8; 4])) as usize;
            std::slice::from_raw_parts(self.0.as_ptr().add(4), len)
        }
    }
}
impl Drop for Bytes {
    fn drop(&mut self) {
        let len = self.as_slice().len();
        unsafe {
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.0.as_ptr(), 4 + len)));
        }
    }
}
unsafe impl Entry for Bytes {
    type Key = [u8];
    fn key(&self) -> &[u8] {
        self.as_slice()
    }
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        Bytes(raw)
    }
}

#[test]
fn smoke_insert_get_remove_100k() {
    let mut t: Table<Bytes> = Table::new();
    let n = 100_000;
    for i in 0..n {
        let k = format!("key:{i}");
        assert!(t.insert(Bytes::new(k.as_bytes())).is_none());
        assert_eq!(t.len(), i + 1);
    }
    for i in 0..n {
        let k = format!("key:{i}");
        assert_eq!(t.get(k.as_bytes()).unwrap().key(), k.as_bytes());
    }
    assert!(t.get(b"nope").is_none());
    let mut seen = 0;
    let mut c = 0;
    loop {
        c = t.scan(c, |_| seen += 1);
        if c == 0 {
            break;
        }
    }
    assert!(seen >= n);
    assert_eq!(t.iter().count(), n);
    for i in 0..n {
        if i % 2 == 0 {
            let k = format!("key:{i}");
            assert!(t.remove(k.as_bytes()).is_some(), "{i}");
        }
    }
    assert_eq!(t.len(), n / 2);
    t.retain(|e| e.key().len() % 2 == 0);
    for e in t.iter() {
        assert_eq!(e.key().len() % 2, 0);
    }
    let left = t.len();
    match t.entry(b"key:1") {
        EntryRef::Occupied(o) => drop(o.remove()),
        EntryRef::Vacant(v) => drop(v.insert(Bytes::new(b"key:1"))),
    }
    assert!(t.len() == left - 1 || t.len() == left + 1);
    while t.len() > 0 {
        let k = t.iter().next().unwrap().key().to_vec();
        t.remove(&k).unwrap();
    }
    assert_eq!(t.bucket_bytes(), 0);
}
