/*
 * The POSIX backend of file.h: one syscall per call, EINTR retried, short
 * writes continued, errno mapped to PD_E* (ENOSPC and EDQUOT -> PD_ENOSPC,
 * ENOENT -> PD_ENOENT, EEXIST -> PD_EEXIST, everything else -> PD_EIO).
 * Files are synced with fdatasync (what Java's FileChannel.force(false) does
 * for ZooKeeper's log), which also covers a changed file size.
 */
#include "storage/file.h"

#include "common/alloc.h"
#include "common/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file {
    int fd; /* owned */
};

static int map_errno(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return PD_ENOSPC;
    case ENOENT:
        return PD_ENOENT;
    case EEXIST:
        return PD_EEXIST;
    case ENOMEM:
        return PD_ENOMEM;
    default:
        return PD_EIO;
    }
}

static int px_open(struct file_fs *fs, const char *path, int flags, struct file **out)
{
    (void)fs;
    int oflags = O_CLOEXEC;
    if (flags & (FILE_RDWR | FILE_CREATE))
        oflags |= O_RDWR;
    else
        oflags |= O_RDONLY;
    if (flags & FILE_CREATE)
        oflags |= O_CREAT;
    if (flags & FILE_EXCL)
        oflags |= O_EXCL;
    if (flags & FILE_TRUNC)
        oflags |= O_TRUNC;
    struct file *f = pd_malloc(sizeof(*f));
    if (!f)
        return PD_ENOMEM;
    do {
        f->fd = open(path, oflags, 0644);
    } while (f->fd < 0 && errno == EINTR);
    if (f->fd < 0) {
        int err = map_errno(errno);
        pd_free(f);
        return err;
    }
    *out = f;
    return 0;
}

static int px_close(struct file_fs *fs, struct file *f)
{
    (void)fs;
    /* No retry on EINTR: on Linux the descriptor is gone either way. */
    int rc = close(f->fd);
    int err = rc < 0 && errno != EINTR ? map_errno(errno) : 0;
    pd_free(f);
    return err;
}

static int px_pread(struct file_fs *fs, struct file *f, void *buf, size_t len, uint64_t off,
                    size_t *n_read)
{
    (void)fs;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(f->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *n_read = done;
            return map_errno(errno);
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *n_read = done;
    return 0;
}

static int px_pwrite(struct file_fs *fs, struct file *f, const void *buf, size_t len, uint64_t off)
{
    (void)fs;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(f->fd, (const char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return map_errno(errno);
        }
        if (n == 0)
            return PD_EIO;
        done += (size_t)n;
    }
    return 0;
}

static int px_sync(struct file_fs *fs, struct file *f)
{
    (void)fs;
    /* Not retried on EINTR either: a failed fdatasync may have dropped pages. */
    return fdatasync(f->fd) < 0 ? map_errno(errno) : 0;
}

static int px_truncate(struct file_fs *fs, struct file *f, uint64_t size)
{
    (void)fs;
    int rc;
    do {
        rc = ftruncate(f->fd, (off_t)size);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? map_errno(errno) : 0;
}

static int px_writeback(struct file_fs *fs, struct file *f, uint64_t off, uint64_t len,
                        bool wait)
{
    (void)fs;
    if (len == 0)
        return 0;
    unsigned flags = SYNC_FILE_RANGE_WRITE;
    if (wait)
        flags |= SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER;
    if (sync_file_range(f->fd, (off_t)off, (off_t)len, flags) == 0)
        return 0;
    /* Not Linux, or a file that has no such range to write (a pipe, a filesystem without
     * it): the hint is lost, nothing else. */
    if (errno == ENOSYS || errno == ESPIPE || errno == EINVAL || errno == EOPNOTSUPP)
        return 0;
    return map_errno(errno);
}

static int px_size(struct file_fs *fs, struct file *f, uint64_t *size)
{
    (void)fs;
    struct stat st;
    if (fstat(f->fd, &st) < 0)
        return map_errno(errno);
    *size = (uint64_t)st.st_size;
    return 0;
}

static int px_allocate(struct file_fs *fs, struct file *f, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    int rc;
    do {
        rc = fallocate(f->fd, 0, (off_t)off, (off_t)len);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0)
        return 0;
    if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
        return map_errno(errno);
    /* No fallocate here (some filesystems): extend sparsely, as ZooKeeper does. */
    uint64_t cur;
    int err = px_size(fs, f, &cur);
    if (err)
        return err;
    if (cur >= off + len)
        return 0;
    return px_truncate(fs, f, off + len);
}

static int px_rename(struct file_fs *fs, const char *from, const char *to)
{
    (void)fs;
    return rename(from, to) < 0 ? map_errno(errno) : 0;
}

static int px_unlink(struct file_fs *fs, const char *path)
{
    (void)fs;
    return unlink(path) < 0 ? map_errno(errno) : 0;
}

static int px_mkdir(struct file_fs *fs, const char *path)
{
    (void)fs;
    return mkdir(path, 0755) < 0 ? map_errno(errno) : 0;
}

static int px_sync_dir(struct file_fs *fs, const char *dir)
{
    (void)fs;
    int fd;
    do {
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return map_errno(errno);
    int err = fsync(fd) < 0 ? map_errno(errno) : 0;
    close(fd);
    return err;
}

static int px_list_dir(struct file_fs *fs, const char *dir, file_list_fn fn, void *arg)
{
    (void)fs;
    DIR *d = opendir(dir);
    if (!d)
        return map_errno(errno);
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                rc = map_errno(errno);
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        rc = fn(e->d_name, arg);
        if (rc)
            break;
    }
    closedir(d);
    return rc;
}

void file_posix_init(struct file_fs *fs)
{
    *fs = (struct file_fs){
        .open = px_open,
        .close = px_close,
        .pread = px_pread,
        .pwrite = px_pwrite,
        .sync = px_sync,
        .writeback = px_writeback,
        .truncate = px_truncate,
        .allocate = px_allocate,
        .size = px_size,
        .rename = px_rename,
        .unlink = px_unlink,
        .mkdir = px_mkdir,
        .sync_dir = px_sync_dir,
        .list_dir = px_list_dir,
    };
}
