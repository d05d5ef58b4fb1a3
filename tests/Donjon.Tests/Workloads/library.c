/* Test workload: a shared library (gcc -shared), which Donjon must reject as "not an executable". */
int donjon_test_library_answer(void)
{
    return 42;
}
