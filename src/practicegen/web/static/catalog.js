// Offers the tenant's subjects and topics from GET /api/v1/catalog as the practice form's
// suggestions. The service accepts any casing of a name, so a typed `algebra` finds its topics.

const fold = (name) => name.trim().toLocaleLowerCase();

function options(names) {
  return names.map((name) => {
    const option = document.createElement("option");
    option.value = name;
    return option;
  });
}

// Fills the subject list; returns a function that fills the topic list for a typed subject.
export function drawCatalog(catalog, subjectList, topicList) {
  subjectList.replaceChildren(...options(catalog.subjects.map((subject) => subject.name)));
  return (typed) => {
    const subject = catalog.subjects.find((s) => fold(s.name) === fold(typed));
    topicList.replaceChildren(...options(subject ? subject.topics.map((topic) => topic.name) : []));
  };
}
