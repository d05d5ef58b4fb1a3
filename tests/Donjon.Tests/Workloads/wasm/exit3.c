/* exit3.wasm: ends with status 3 through proc_exit, after some output. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    puts("about to exit with 3");
    exit(3);
}
