/* Exits at once: measures start-to-exit. */
int main(void)
{
    return 0;
}
