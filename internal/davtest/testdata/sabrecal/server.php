<?php
// A sabre/dav 4.7.1 CalDAV server (the calendar engine of Nextcloud and Baikal), after sabre's
// examples/calendarserver.php: PDO SQLite backends, CalDAV + Sync (RFC 6578) + ACL, no scheduling.
// It uses the sabre/dav bundle at SABRE_ROOT (the folder of davtest's CardDAV server).
// php server.php init DB: adds the calendar tables to a database made by SABRE_ROOT/init.php.
// Served (php -S): SABRE_DB is that database; SABRE_AUTH: basic (default) or digest.
date_default_timezone_set('UTC');
require_once getenv('SABRE_ROOT') . '/autoload.php';
if (PHP_SAPI === 'cli') {
    [$_, $cmd, $db] = $argv;
    $pdo = new PDO('sqlite:' . $db);
    $pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
    $pdo->exec(file_get_contents(getenv('SABRE_ROOT') . '/vendor/dav/examples/sql/sqlite.calendars.sql'));
    exit(0);
}
$pdo = new PDO('sqlite:' . getenv('SABRE_DB'));
$pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$pdo->exec('PRAGMA busy_timeout = 5000');
if ((getenv('SABRE_AUTH') ?: 'basic') === 'digest') {
    $authBackend = new Sabre\DAV\Auth\Backend\PDO($pdo); // HTTP Digest, Baikal's default
} else {
    $authBackend = new Sabre\DAV\Auth\Backend\BasicCallBack(function ($u, $p) use ($pdo) {
        $st = $pdo->prepare('SELECT password FROM basicusers WHERE username = ?');
        $st->execute([$u]);
        $row = $st->fetch();
        return $row && hash_equals($row[0], $p);
    });
}
$principals = new Sabre\DAVACL\PrincipalBackend\PDO($pdo);
$calendars = new Sabre\CalDAV\Backend\PDO($pdo);
$server = new Sabre\DAV\Server([
    new Sabre\CalDAV\Principal\Collection($principals),
    new Sabre\CalDAV\CalendarRoot($principals, $calendars),
]);
$server->setBaseUri('/');
$server->addPlugin(new Sabre\DAV\Auth\Plugin($authBackend));
$server->addPlugin(new Sabre\DAVACL\Plugin());
$server->addPlugin(new Sabre\CalDAV\Plugin());
$server->addPlugin(new Sabre\DAV\Sync\Plugin());
$server->start();
