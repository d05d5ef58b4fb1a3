/* files.wasm: reads /data/input.txt, writes /data/output.txt, lists /data, then tries paths that no preopen holds.
   Each refusal is printed with its errno's name. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *errno_name(int error)
{
    switch (error) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EROFS: return "EROFS";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    case EBADF: return "EBADF";
    default: return "another errno";
    }
}

static void try_open(const char *label, const char *path, const char *mode)
{
    FILE *file = fopen(path, mode);
    if (file != NULL) {
        printf("%s %s: opened\n", label, path);
        fclose(file);
    } else {
        printf("%s %s: refused (%s)\n", label, path, errno_name(errno));
    }
}

static int compare(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "write";
    char line[256] = "";
    FILE *input = fopen("/data/input.txt", "r");
    if (input == NULL) {
        printf("open /data/input.txt: %s\n", errno_name(errno));
        return 1;
    }
    if (fgets(line, sizeof line, input) == NULL)
        line[0] = '\0';
    fclose(input);
    printf("read: %s", line);

    if (strcmp(mode, "write") == 0) {
        FILE *output = fopen("/data/output.txt", "w");
        if (output == NULL) {
            printf("open /data/output.txt for writing: %s\n", errno_name(errno));
            return 1;
        }
        fprintf(output, "written by files.wasm after reading %zu bytes\n", strlen(line));
        fclose(output);
        puts("wrote /data/output.txt");
    } else {
        try_open("write to a read-only preopen", "/data/output.txt", "w");
    }

    DIR *directory = opendir("/data");
    if (directory == NULL) {
        printf("opendir /data: %s\n", errno_name(errno));
        return 1;
    }
    char *names[64];
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL && count < 64)
        if (entry->d_name[0] != '.')
            names[count++] = strdup(entry->d_name);
    closedir(directory);
    qsort(names, count, sizeof *names, compare);
    for (size_t i = 0; i < count; i++)
        printf("listed: %s\n", names[i]);

    try_open("outside the preopens", "/etc/passwd", "r");
    try_open("escape with ..", "/data/../etc/passwd", "r");
    return 0;
}
