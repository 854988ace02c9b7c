/*
 * iolog: an LD_PRELOAD library that records what a process writes to one SQLite database,
 * so that tests/e2e/crash/check.py can rebuild the files as a power cut would leave them
 * (security requirement C1.15, "lose un-fsynced writes").
 *
 * Every call is passed through to libc. For the database's files (JOBSCOPE_IOLOG_DB, an
 * absolute path: the file itself, its "-wal" and "-journal"; "-shm" is an mmap'd index that
 * SQLite rebuilds, so it is not followed) and their directory, it appends to the log file
 * (JOBSCOPE_IOLOG):
 *
 *   OPEN        path, inode, whether the call created the file, O_TRUNC
 *   WRITE       inode, offset, the bytes written (write, pwrite, writev, pwritev …)
 *   TRUNCATE    inode, new length
 *   SYNC_BEGIN  inode, before fsync/fdatasync/sync_file_range is called
 *   SYNC_END    inode, after it returned successfully
 *   UNLINK      path
 *   RENAME      old path, new path
 *   CLOSE       inode
 *
 * and, for every socket write that starts with "HTTP/1.", an ACK record holding the first
 * bytes of the response head, logged *before* the bytes are handed to the kernel: whatever
 * precedes an ACK in the log happened before the client could read the answer.
 *
 * Every record carries a sequence number from one counter, taken under one lock, so the log
 * is a total order of the process's calls. A write is logged after it returned and a sync
 * both before and after, so "the write precedes the sync's start" means the sync covers it.
 *
 * JOBSCOPE_IOLOG_DROP_SYNC is for self-tests: "1" skips every sync of the database's files
 * and of their directory, "dir" only those of the directory (the call returns success and
 * nothing is logged), as a disk cache that ignores flushes would.
 *
 * Record layout (little-endian, 48 bytes) followed by `len` bytes of payload:
 *   u32 kind, i32 fd, u64 seq, i64 arg, u64 len, u64 ino, u64 reserved
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum kind {
    K_OPEN = 1,
    K_WRITE = 2,
    K_TRUNCATE = 3,
    K_SYNC_BEGIN = 4,
    K_SYNC_END = 5,
    K_UNLINK = 6,
    K_RENAME = 7,
    K_CLOSE = 8,
    K_ACK = 9,
};

struct record {
    uint32_t kind;
    int32_t fd;
    uint64_t seq;
    int64_t arg;
    uint64_t len;
    uint64_t ino;
    uint64_t reserved;
};

#define MAX_FD 65536
#define ACK_BYTES 1024
#define OPEN_CREATED 1
#define OPEN_TRUNC 2
#define OPEN_DIR 4

/* Per descriptor: 0 not followed, 1 a database file, 2 the directory. */
static unsigned char fd_kind[MAX_FD];
static uint64_t fd_ino[MAX_FD];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static uint64_t seq;
static int log_fd = -1;
static int drop_sync; /* 0 none, 1 every followed descriptor, 2 the directory only */
static char db_path[4096];
static char dir_path[4096];
static size_t db_len;

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real___open_2)(const char *, int);
static int (*real___open64_2)(const char *, int);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_sync_file_range)(int, off_t, off_t, unsigned int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);

#define RESOLVE(name) real_##name = dlsym(RTLD_NEXT, #name)

static void init(void) {
    RESOLVE(open);
    RESOLVE(open64);
    RESOLVE(openat);
    RESOLVE(openat64);
    RESOLVE(__open_2);
    RESOLVE(__open64_2);
    RESOLVE(close);
    RESOLVE(write);
    RESOLVE(writev);
    RESOLVE(pwrite);
    RESOLVE(pwrite64);
    RESOLVE(pwritev);
    RESOLVE(pwritev64);
    RESOLVE(pwritev2);
    RESOLVE(send);
    RESOLVE(sendto);
    RESOLVE(sendmsg);
    RESOLVE(ftruncate);
    RESOLVE(ftruncate64);
    RESOLVE(fsync);
    RESOLVE(fdatasync);
    RESOLVE(sync_file_range);
    RESOLVE(unlink);
    RESOLVE(unlinkat);
    RESOLVE(rename);
    RESOLVE(renameat);

    const char *db = getenv("JOBSCOPE_IOLOG_DB");
    const char *log = getenv("JOBSCOPE_IOLOG");
    const char *drop = getenv("JOBSCOPE_IOLOG_DROP_SYNC");
    drop_sync = drop == NULL ? 0 : strcmp(drop, "1") == 0 ? 1 : strcmp(drop, "dir") == 0 ? 2 : 0;
    if (db == NULL || log == NULL || db[0] != '/' || strlen(db) >= sizeof db_path - 16) {
        return;
    }
    strcpy(db_path, db);
    db_len = strlen(db_path);
    strcpy(dir_path, db_path);
    char *slash = strrchr(dir_path, '/');
    if (slash == dir_path) {
        slash[1] = '\0';
    } else {
        *slash = '\0';
    }
    log_fd = real_open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        fprintf(stderr, "iolog: cannot open %s\n", log);
        abort();
    }
}

static void setup(void) { pthread_once(&once, init); }

static int active(void) {
    setup();
    return log_fd >= 0;
}

static void put_all(const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = real_write(log_fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fprintf(stderr, "iolog: cannot write the log\n");
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
}

/* Appends one record; the caller holds `lock`. Payload: up to two buffers. */
static void emit(uint32_t kind, int fd, int64_t arg, uint64_t ino, const void *a, size_t alen,
                 const void *b, size_t blen) {
    struct record r = {kind, fd, ++seq, arg, alen + blen, ino, 0};
    put_all(&r, sizeof r);
    if (alen > 0) {
        put_all(a, alen);
    }
    if (blen > 0) {
        put_all(b, blen);
    }
}

static void emit_locked(uint32_t kind, int fd, int64_t arg, uint64_t ino, const void *a,
                        size_t alen, const void *b, size_t blen) {
    pthread_mutex_lock(&lock);
    emit(kind, fd, arg, ino, a, alen, b, blen);
    pthread_mutex_unlock(&lock);
}

/* The absolute form of `path` (relative to the working directory or to `dirfd`). */
static int absolute(int dirfd, const char *path, char *out, size_t size) {
    if (path == NULL) {
        return -1;
    }
    if (path[0] == '/') {
        if (strlen(path) >= size) {
            return -1;
        }
        strcpy(out, path);
        return 0;
    }
    char base[4096];
    if (dirfd == AT_FDCWD) {
        if (getcwd(base, sizeof base) == NULL) {
            return -1;
        }
    } else {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", dirfd);
        ssize_t n = readlink(proc, base, sizeof base - 1);
        if (n < 0) {
            return -1;
        }
        base[n] = '\0';
    }
    if ((size_t)snprintf(out, size, "%s/%s", base, path) >= size) {
        return -1;
    }
    return 0;
}

/* 1: a database file followed, 2: the directory, 0: neither. */
static int classify(const char *abs) {
    if (strcmp(abs, dir_path) == 0) {
        return 2;
    }
    if (strncmp(abs, db_path, db_len) != 0) {
        return 0;
    }
    const char *rest = abs + db_len;
    if (rest[0] == '\0' || strcmp(rest, "-wal") == 0 || strcmp(rest, "-journal") == 0) {
        return 1;
    }
    return 0;
}

static int followed(int fd) { return fd >= 0 && fd < MAX_FD && fd_kind[fd] != 0; }

static void note_open(int dirfd, const char *path, int flags, int existed, int fd) {
    char abs[4096];
    if (fd < 0 || fd >= MAX_FD || !active() || absolute(dirfd, path, abs, sizeof abs) != 0) {
        return;
    }
    int kind = classify(abs);
    if (kind == 0) {
        fd_kind[fd] = 0; /* a number reused after a close we did not see */
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return;
    }
    int64_t how = 0;
    if (!existed) {
        how |= OPEN_CREATED;
    }
    if (flags & O_TRUNC) {
        how |= OPEN_TRUNC;
    }
    if (kind == 2) {
        how |= OPEN_DIR;
    }
    pthread_mutex_lock(&lock);
    fd_kind[fd] = (unsigned char)kind;
    fd_ino[fd] = (uint64_t)st.st_ino;
    emit(K_OPEN, fd, how, (uint64_t)st.st_ino, abs, strlen(abs), NULL, 0);
    pthread_mutex_unlock(&lock);
}

static int exists_at(int dirfd, const char *path) {
    struct stat st;
    return fstatat(dirfd, path, &st, 0) == 0;
}

static int needs_mode(int flags) { return (flags & O_CREAT) || ((flags & O_TMPFILE) == O_TMPFILE); }

static int do_openat(int (*fn)(int, const char *, int, ...), int dirfd, const char *path,
                     int flags, mode_t mode) {
    int watch = active() && (flags & O_CREAT);
    int existed = watch ? exists_at(dirfd, path) : 1;
    int fd = fn(dirfd, path, flags, mode);
    int saved = errno;
    note_open(dirfd, path, flags, existed, fd);
    errno = saved;
    return fd;
}

static int do_open(int (*fn)(const char *, int, ...), const char *path, int flags, mode_t mode) {
    int watch = active() && (flags & O_CREAT);
    int existed = watch ? exists_at(AT_FDCWD, path) : 1;
    int fd = fn(path, flags, mode);
    int saved = errno;
    note_open(AT_FDCWD, path, flags, existed, fd);
    errno = saved;
    return fd;
}

#define MODE_ARG(flags)                                                                       \
    mode_t mode = 0;                                                                          \
    if (needs_mode(flags)) {                                                                  \
        va_list ap;                                                                           \
        va_start(ap, flags);                                                                  \
        mode = (mode_t)va_arg(ap, int);                                                       \
        va_end(ap);                                                                           \
    }

int open(const char *path, int flags, ...) {
    MODE_ARG(flags);
    setup();
    return do_open(real_open, path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    MODE_ARG(flags);
    setup();
    return do_open(real_open64, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
    MODE_ARG(flags);
    setup();
    return do_openat(real_openat, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) {
    MODE_ARG(flags);
    setup();
    return do_openat(real_openat64, dirfd, path, flags, mode);
}

int __open_2(const char *path, int flags) {
    setup();
    int fd = real___open_2(path, flags);
    int saved = errno;
    note_open(AT_FDCWD, path, flags, 1, fd);
    errno = saved;
    return fd;
}

int __open64_2(const char *path, int flags) {
    setup();
    int fd = real___open64_2(path, flags);
    int saved = errno;
    note_open(AT_FDCWD, path, flags, 1, fd);
    errno = saved;
    return fd;
}

int close(int fd) {
    setup();
    if (followed(fd)) {
        pthread_mutex_lock(&lock);
        emit(K_CLOSE, fd, 0, fd_ino[fd], NULL, 0, NULL, 0);
        fd_kind[fd] = 0;
        fd_ino[fd] = 0;
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}

/* Logs `n` bytes just written from `iov` at `offset`. */
static void note_write(int fd, const struct iovec *iov, int cnt, ssize_t n, off_t offset) {
    if (n <= 0) {
        return;
    }
    pthread_mutex_lock(&lock);
    struct record r = {K_WRITE, fd, ++seq, (int64_t)offset, (uint64_t)n, fd_ino[fd], 0};
    put_all(&r, sizeof r);
    size_t left = (size_t)n;
    for (int i = 0; i < cnt && left > 0; i++) {
        size_t take = iov[i].iov_len < left ? iov[i].iov_len : left;
        put_all(iov[i].iov_base, take);
        left -= take;
    }
    pthread_mutex_unlock(&lock);
}

/* An HTTP answer starting on a socket: log its head before it is sent. */
static void maybe_ack(int fd, const struct iovec *iov, int cnt) {
    if (!active() || cnt < 1 || iov[0].iov_len < 9 || memcmp(iov[0].iov_base, "HTTP/1.", 7) != 0) {
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        return;
    }
    char head[ACK_BYTES];
    size_t have = 0;
    for (int i = 0; i < cnt && have < sizeof head; i++) {
        size_t take = iov[i].iov_len < sizeof head - have ? iov[i].iov_len : sizeof head - have;
        memcpy(head + have, iov[i].iov_base, take);
        have += take;
    }
    emit_locked(K_ACK, fd, 0, 0, head, have, NULL, 0);
}

ssize_t write(int fd, const void *buf, size_t len) {
    setup();
    struct iovec one = {(void *)buf, len};
    if (followed(fd)) {
        off_t at = lseek(fd, 0, SEEK_CUR);
        ssize_t n = real_write(fd, buf, len);
        int saved = errno;
        note_write(fd, &one, 1, n, at);
        errno = saved;
        return n;
    }
    maybe_ack(fd, &one, 1);
    return real_write(fd, buf, len);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    setup();
    if (followed(fd)) {
        off_t at = lseek(fd, 0, SEEK_CUR);
        ssize_t n = real_writev(fd, iov, cnt);
        int saved = errno;
        note_write(fd, iov, cnt, n, at);
        errno = saved;
        return n;
    }
    maybe_ack(fd, iov, cnt);
    return real_writev(fd, iov, cnt);
}

#define PWRITE(name, type)                                                                    \
    ssize_t name(int fd, const void *buf, size_t len, type offset) {                          \
        setup();                                                                              \
        ssize_t n = real_##name(fd, buf, len, offset);                                        \
        if (followed(fd)) {                                                                   \
            int saved = errno;                                                                \
            struct iovec one = {(void *)buf, len};                                            \
            note_write(fd, &one, 1, n, offset);                                               \
            errno = saved;                                                                    \
        }                                                                                     \
        return n;                                                                             \
    }

PWRITE(pwrite, off_t)
PWRITE(pwrite64, off_t)

#define PWRITEV(name)                                                                         \
    ssize_t name(int fd, const struct iovec *iov, int cnt, off_t offset) {                    \
        setup();                                                                              \
        ssize_t n = real_##name(fd, iov, cnt, offset);                                        \
        if (followed(fd)) {                                                                   \
            int saved = errno;                                                                \
            note_write(fd, iov, cnt, n, offset);                                              \
            errno = saved;                                                                    \
        }                                                                                     \
        return n;                                                                             \
    }

PWRITEV(pwritev)
PWRITEV(pwritev64)

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t offset, int flags) {
    setup();
    off_t at = offset == -1 && followed(fd) ? lseek(fd, 0, SEEK_CUR) : offset;
    ssize_t n = real_pwritev2(fd, iov, cnt, offset, flags);
    if (followed(fd)) {
        int saved = errno;
        note_write(fd, iov, cnt, n, at);
        errno = saved;
    }
    return n;
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
    setup();
    struct iovec one = {(void *)buf, len};
    maybe_ack(fd, &one, 1);
    return real_send(fd, buf, len, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t tolen) {
    setup();
    struct iovec one = {(void *)buf, len};
    maybe_ack(fd, &one, 1);
    return real_sendto(fd, buf, len, flags, to, tolen);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    setup();
    if (msg != NULL) {
        maybe_ack(fd, msg->msg_iov, (int)msg->msg_iovlen);
    }
    return real_sendmsg(fd, msg, flags);
}

#define FTRUNCATE(name)                                                                       \
    int name(int fd, off_t length) {                                                          \
        setup();                                                                              \
        int rc = real_##name(fd, length);                                                     \
        if (rc == 0 && followed(fd)) {                                                        \
            int saved = errno;                                                                \
            emit_locked(K_TRUNCATE, fd, (int64_t)length, fd_ino[fd], NULL, 0, NULL, 0);       \
            errno = saved;                                                                    \
        }                                                                                     \
        return rc;                                                                            \
    }

FTRUNCATE(ftruncate)
FTRUNCATE(ftruncate64)

/* A sync of a followed descriptor: logged around the call, or skipped (self-test). */
static int do_sync(int fd, int (*call)(int), int datasync) {
    if (!followed(fd)) {
        return call(fd);
    }
    if (drop_sync == 1 || (drop_sync == 2 && fd_kind[fd] == 2)) {
        return 0;
    }
    emit_locked(K_SYNC_BEGIN, fd, datasync, fd_ino[fd], NULL, 0, NULL, 0);
    int rc = call(fd);
    int saved = errno;
    if (rc == 0) {
        emit_locked(K_SYNC_END, fd, datasync, fd_ino[fd], NULL, 0, NULL, 0);
    }
    errno = saved;
    return rc;
}

int fsync(int fd) {
    setup();
    return do_sync(fd, real_fsync, 0);
}

int fdatasync(int fd) {
    setup();
    return do_sync(fd, real_fdatasync, 1);
}

int sync_file_range(int fd, off_t offset, off_t nbytes, unsigned int flags) {
    setup();
    /* Not a durability barrier (no metadata, no disk cache flush): logged as nothing. */
    return real_sync_file_range(fd, offset, nbytes, flags);
}

static void note_path(uint32_t kind, int dirfd, const char *path, int dirfd2, const char *path2) {
    char abs[4096], abs2[4096];
    if (!active() || absolute(dirfd, path, abs, sizeof abs) != 0) {
        return;
    }
    if (kind == K_RENAME) {
        if (absolute(dirfd2, path2, abs2, sizeof abs2) != 0) {
            return;
        }
        if (classify(abs) != 1 && classify(abs2) != 1) {
            return;
        }
        emit_locked(kind, -1, 0, 0, abs, strlen(abs) + 1, abs2, strlen(abs2));
    } else if (classify(abs) == 1) {
        emit_locked(kind, -1, 0, 0, abs, strlen(abs), NULL, 0);
    }
}

int unlink(const char *path) {
    setup();
    int rc = real_unlink(path);
    if (rc == 0) {
        int saved = errno;
        note_path(K_UNLINK, AT_FDCWD, path, AT_FDCWD, NULL);
        errno = saved;
    }
    return rc;
}

int unlinkat(int dirfd, const char *path, int flags) {
    setup();
    int rc = real_unlinkat(dirfd, path, flags);
    if (rc == 0) {
        int saved = errno;
        note_path(K_UNLINK, dirfd, path, AT_FDCWD, NULL);
        errno = saved;
    }
    return rc;
}

int rename(const char *from, const char *to) {
    setup();
    int rc = real_rename(from, to);
    if (rc == 0) {
        int saved = errno;
        note_path(K_RENAME, AT_FDCWD, from, AT_FDCWD, to);
        errno = saved;
    }
    return rc;
}

int renameat(int fromfd, const char *from, int tofd, const char *to) {
    setup();
    int rc = real_renameat(fromfd, from, tofd, to);
    if (rc == 0) {
        int saved = errno;
        note_path(K_RENAME, fromfd, from, tofd, to);
        errno = saved;
    }
    return rc;
}
