// Rust std threads: spawn, a channel, a shared atomic counter behind an Arc, scoped threads, and join results.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

fn main() {
    let counter = Arc::new(AtomicUsize::new(0));
    let names = Arc::new(Mutex::new(Vec::new()));
    let (sender, receiver) = mpsc::channel();
    let mut handles = Vec::new();
    for i in 0..4 {
        let counter = Arc::clone(&counter);
        let names = Arc::clone(&names);
        let sender = sender.clone();
        handles.push(thread::Builder::new().name(format!("worker-{i}")).spawn(move || {
            for _ in 0..1000 {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            names.lock().unwrap().push(thread::current().name().unwrap().to_string());
            sender.send(i * 10).unwrap();
            i * i
        }).unwrap());
    }
    drop(sender);
    let squares: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let mut received: Vec<usize> = receiver.iter().collect();
    received.sort();
    let mut names = names.lock().unwrap().clone();
    names.sort();
    let data = [1u64, 2, 3, 4, 5, 6, 7, 8];
    let (left, right) = data.split_at(4);
    let (a, b) = thread::scope(|s| {
        let a = s.spawn(|| left.iter().sum::<u64>());
        let b = s.spawn(|| right.iter().sum::<u64>());
        (a.join().unwrap(), b.join().unwrap())
    });
    println!("hello from a thread pool: counter {}", counter.load(Ordering::SeqCst));
    println!("squares {squares}, received {received:?}");
    println!("names {names:?}");
    println!("scoped sums {a} + {b} = {}", a + b);
}
