// The keep suite's Rust std program: a greeting, its arguments, stdin echoed back, and an exit status.
// std polls descriptors 0-2 before main (poll in the core set), then uses read/write, args from the initial stack,
// and the exit status through std::process::exit.
use std::io::{self, Read, Write};

fn main() {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "hello from rust std").unwrap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    for (i, arg) in args.iter().enumerate() {
        writeln!(out, "arg[{}]=[{}]", i + 1, arg).unwrap();
    }

    let mut input = Vec::new();
    io::stdin().read_to_end(&mut input).unwrap();
    writeln!(out, "stdin: {} bytes", input.len()).unwrap();
    out.write_all(&input).unwrap();
    out.flush().unwrap();

    let status = 3 + (args.len() as i32);
    std::process::exit(status);
}
