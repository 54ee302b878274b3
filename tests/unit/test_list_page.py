"""Pages of a list already in memory, as the import previews and the quiz's paper show
them."""

from studyhall.templating import ListPage


def test_a_middle_page_and_its_links():
    page = ListPage(list(range(3000)), 30, 50)
    assert page.items == list(range(1450, 1500)) and (page.first, page.last) == (1451, 1500)
    assert (page.pages, page.prev_num, page.next_num) == (60, 29, 31)
    assert list(page.iter_pages()) == [1, None, 29, 30, 31, 32, None, 60]


def test_pages_out_of_range_are_brought_back():
    assert ListPage(list(range(10)), -3, 5).page == 1
    last = ListPage(list(range(10)), 99, 5)
    assert last.page == 2 and last.items == [5, 6, 7, 8, 9] and not last.has_next
    empty = ListPage([], 5, 50)
    assert (empty.page, empty.pages, empty.first, empty.items) == (1, 1, 0, [])


def test_a_page_number_from_a_query_string_is_read_or_ignored():
    """The quiz's paper makes its page in the template, from request.args as it came."""
    assert ListPage(list(range(45)), "2", 20).items == list(range(20, 40))
    for junk in (None, "", "二", "2.5", "1e9x"):
        assert ListPage(list(range(45)), junk, 20).page == 1
