// Live updates (notes/live.py): new notes on the index, new comments on a note's page.
(() => {
  const script = document.currentScript;
  // WebSocket only: one connection, so it stays with its server process.
  const socket = io({ transports: ["websocket"] });

  function entry(tag, className, parts) {
    const element = document.createElement(tag);
    element.className = className;
    element.append(...parts);
    return element;
  }

  function muted(text) {
    const span = document.createElement("span");
    span.className = "muted";
    span.textContent = text;
    return span;
  }

  function when(iso) {
    return iso.slice(0, 16).replace("T", " ");
  }

  // The page says when it listens (the browser tests wait for it).
  const listening = () => { document.body.dataset.live = "listening"; };
  socket.on("disconnect", () => { delete document.body.dataset.live; });

  if (script.dataset.page === "index") {
    socket.on("connect", listening);
    socket.on("note_created", (note) => {
      const href = script.dataset.noteUrl.replace(/0$/, String(note.id));
      if (document.querySelector(`ul.notes a[href="${href}"]`)) return;
      let list = document.querySelector("ul.notes");
      if (!list) {
        list = document.createElement("ul");
        list.className = "notes";
        document.querySelector("main h1").after(list);
      }
      const link = document.createElement("a");
      link.href = href;
      link.textContent = note.title;
      const by = `${note.author || "someone"}, ${when(note.created)}`;
      list.prepend(entry("li", "live", [link, " ", muted(by)]));
    });
  } else {
    const noteId = Number(script.dataset.noteId);
    socket.on("connect", () => socket.emit("watch", noteId, (ok) => ok && listening()));
    socket.on("comment_created", (comment) => {
      if (comment.note_id !== noteId) return;
      const section = document.getElementById("comments");
      const by = document.createElement("p");
      by.className = "muted";
      by.textContent = `${comment.author || "someone"}, ${when(comment.created)} UTC`;
      const body = entry("div", "body", [comment.body]);
      const form = section.querySelector("form, p:not(.muted)");
      section.insertBefore(entry("div", "comment live", [by, body]), form);
      const empty = [...section.querySelectorAll(":scope > p.muted")];
      empty.filter((p) => p.textContent === "No comments yet.").forEach((p) => p.remove());
      const heading = section.querySelector("h2");
      const count = section.querySelectorAll(".comment").length;
      heading.textContent = `Comments (${count})`;
    });
  }
})();
